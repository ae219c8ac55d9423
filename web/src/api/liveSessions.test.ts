import { describe, expect, it } from "vitest";
import { parseSessionEvent, removeSession, upsertSession, workspacesOf } from "./liveSessions";
import type { Session } from "./types";

const session = (id: string, status: Session["status"], updated: string, workspace = "w"): Session => ({
  id,
  workspace,
  status,
  error: null,
  sandbox: null,
  created_at: "2026-01-01T00:00:00Z",
  updated_at: updated,
});

describe("parseSessionEvent", () => {
  it("reads the control plane's events", () => {
    const s = session("a", "running", "2026-01-01T00:00:01Z");
    expect(parseSessionEvent({ event: "resync", data: "{}", id: null })).toEqual({ kind: "resync" });
    expect(parseSessionEvent({ event: "session", data: JSON.stringify(s), id: null })).toEqual({
      kind: "upsert",
      session: s,
    });
    expect(parseSessionEvent({ event: "session.deleted", data: '{"id":"a"}', id: null })).toEqual({
      kind: "delete",
      id: "a",
    });
  });

  it("ignores unknown and malformed events", () => {
    expect(parseSessionEvent({ event: "other", data: "{}", id: null })).toEqual({ kind: "ignore" });
    expect(parseSessionEvent({ event: "session", data: "{not json", id: null })).toEqual({ kind: "ignore" });
    expect(parseSessionEvent({ event: "session.deleted", data: "{}", id: null })).toEqual({ kind: "ignore" });
  });
});

describe("upsertSession", () => {
  it("adds, replaces, and never lets an older copy overwrite a newer one", () => {
    let list = upsertSession([], session("a", "starting", "2026-01-01T00:00:01Z"));
    list = upsertSession(list, session("a", "running", "2026-01-01T00:00:05.5Z"));
    expect(list).toHaveLength(1);
    expect(list[0]?.status).toBe("running");
    // A late API answer with the older state arrives after the event.
    list = upsertSession(list, session("a", "starting", "2026-01-01T00:00:01Z"));
    expect(list[0]?.status).toBe("running");
    // Timestamps with and without fractions compare by time, not as text.
    list = upsertSession(list, session("a", "stopped", "2026-01-01T00:00:06Z"));
    expect(list[0]?.status).toBe("stopped");
  });

  it("removes and lists workspaces once each", () => {
    const list = [
      session("a", "running", "t", "x"),
      session("b", "stopped", "t", "x"),
      session("c", "failed", "t", "y"),
    ];
    expect(removeSession(list, "b").map((s) => s.id)).toEqual(["a", "c"]);
    expect(workspacesOf(list)).toEqual(["x", "y"]);
  });
});
