import { describe, expect, it } from "vitest";
import type { Session } from "../api/types";
import { inboxSnapshot, settleAnswered, type SessionWaiting } from "./inboxState";

const session = (id: string, workspace: string): Session => ({ id, workspace, status: "running" }) as Session;
const permission = (id: string) => ({ id, sessionID: "ses_a", permission: "bash", patterns: [] });
const question = (id: string) => ({
  id,
  sessionID: "ses_a",
  questions: [{ question: "Q?", header: "Q", options: [] }],
});
const waiting = (over: Partial<SessionWaiting> = {}): SessionWaiting => ({
  permissions: [],
  questions: [],
  error: null,
  ...over,
});

describe("the inbox", () => {
  const beta = session("s2", "beta");
  const alpha = session("s1", "alpha");
  const idle = session("s3", "idle");

  it("lists sessions that wait on something or failed, by workspace, and counts the requests", () => {
    const results = new Map([
      ["s2", waiting({ permissions: [permission("per_1")], questions: [question("que_1")] })],
      ["s1", waiting({ error: "session_not_running" })],
      ["s3", waiting()],
    ]);
    const inbox = inboxSnapshot([beta, alpha, idle], results, new Map());
    expect(inbox.entries.map((e) => e.session.workspace)).toEqual(["alpha", "beta"]);
    expect(inbox.count).toBe(2);
    expect(inbox.loaded).toBe(true);
  });

  it("is not loaded until every running session has answered once", () => {
    const inbox = inboxSnapshot([alpha, beta], new Map([["s1", waiting()]]), new Map());
    expect(inbox.loaded).toBe(false);
    expect(inbox.entries).toEqual([]);
  });

  it("leaves out what was answered here until a list no longer has it", () => {
    const results = new Map([["s2", waiting({ permissions: [permission("per_1"), permission("per_2")] })]]);
    const answered = new Map([["s2", new Set(["per_1"])]]);
    const inbox = inboxSnapshot([beta], results, answered);
    expect(inbox.entries[0]?.permissions.map((p) => p.id)).toEqual(["per_2"]);
    expect(inbox.count).toBe(1);

    const done = new Set(["per_1", "que_9"]);
    settleAnswered(done, waiting({ permissions: [permission("per_1")] }));
    expect([...done]).toEqual(["per_1"]);
  });
});
