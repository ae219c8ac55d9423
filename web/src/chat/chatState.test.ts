import { describe, expect, it } from "vitest";
import { applyEvent, chatReducer, initialChat, isBusy, type ChatState } from "./chatState";
import type { Message, OcEvent, Part } from "./types";

const S = "ses_1";
const user = (id: string, text: string): Message => ({
  info: { id, sessionID: S, role: "user", time: { created: 1 } },
  parts: [{ id: `prt_${id}`, messageID: id, sessionID: S, type: "text", text }],
});
const ev = (type: string, properties: Record<string, unknown>): OcEvent => ({ type, properties });
const msgUpdated = (id: string, completed?: number): OcEvent =>
  ev("message.updated", {
    sessionID: S,
    info: { id, sessionID: S, role: "assistant", time: { created: 2, ...(completed ? { completed } : {}) } },
  });
const partUpdated = (part: Part): OcEvent => ev("message.part.updated", { sessionID: S, part });
const delta = (messageID: string, partID: string, text: string): OcEvent =>
  ev("message.part.delta", { sessionID: S, messageID, partID, field: "text", delta: text });
const textOf = (state: ChatState, messageID: string): string =>
  state.messages
    .find((m) => m.info.id === messageID)
    ?.parts.map((p) => ("text" in p ? p.text : ""))
    .join("") ?? "";

function run(state: ChatState, ...events: OcEvent[]): ChatState {
  return events.reduce((s, event) => chatReducer(s, { type: "event", event }), state);
}

describe("streaming", () => {
  it("builds an answer token by token and finishes it", () => {
    let state = run(
      initialChat(S),
      ev("session.status", { sessionID: S, status: { type: "busy" } }),
      msgUpdated("msg_2"),
      partUpdated({ id: "prt_a", messageID: "msg_2", sessionID: S, type: "text", text: "" }),
      delta("msg_2", "prt_a", "Hel"),
      delta("msg_2", "prt_a", "lo"),
    );
    expect(textOf(state, "msg_2")).toBe("Hello");
    expect(isBusy(state)).toBe(true);
    state = run(state, msgUpdated("msg_2", 9), ev("session.idle", { sessionID: S }));
    expect(isBusy(state)).toBe(false);
    expect(state.messages[0]?.info.time.completed).toBe(9);
  });

  it("shows a tool call moving from running to finished", () => {
    const tool = (status: "running" | "completed"): Part => ({
      id: "prt_t",
      messageID: "msg_2",
      sessionID: S,
      type: "tool",
      tool: "bash",
      callID: "c1",
      state: { status, input: { command: "ls" }, ...(status === "completed" ? { output: "a\n" } : {}) },
    });
    let state = run(initialChat(S), partUpdated(tool("running")));
    expect(state.messages[0]?.parts[0]).toMatchObject({ type: "tool", state: { status: "running" } });
    state = run(state, partUpdated(tool("completed")));
    expect(state.messages[0]?.parts).toHaveLength(1);
    expect(state.messages[0]?.parts[0]).toMatchObject({ state: { status: "completed", output: "a\n" } });
  });

  it("keeps messages and parts in id (creation) order whatever the arrival order", () => {
    const state = run(
      initialChat(S),
      partUpdated({ id: "prt_b", messageID: "msg_3", sessionID: S, type: "text", text: "second" }),
      partUpdated({ id: "prt_a", messageID: "msg_3", sessionID: S, type: "text", text: "first " }),
      msgUpdated("msg_2"),
    );
    expect(state.messages.map((m) => m.info.id)).toEqual(["msg_2", "msg_3"]);
    expect(textOf(state, "msg_3")).toBe("first second");
  });

  it("ignores events of other conversations", () => {
    const other = ev("message.part.delta", {
      sessionID: "ses_other",
      messageID: "m",
      partID: "p",
      field: "text",
      delta: "x",
    });
    expect(applyEvent(initialChat(S), other).messages).toEqual([]);
  });

  it("shows errors but not an abort the person asked for", () => {
    let state = run(
      initialChat(S),
      ev("session.error", { sessionID: S, error: { name: "MessageAbortedError" } }),
    );
    expect(state.error).toBeNull();
    state = run(
      state,
      ev("session.error", { sessionID: S, error: { name: "APIError", data: { message: "quota" } } }),
    );
    expect(state.error).toBe("quota");
    state = run(state, ev("session.status", { sessionID: S, status: { type: "busy" } }));
    expect(state.error).toBeNull();
  });

  it("tracks permission requests until answered", () => {
    let state = run(
      initialChat(S),
      ev("permission.asked", { id: "per_1", sessionID: S, permission: "bash", patterns: ["rm *"] }),
    );
    expect(state.permissions).toEqual([
      { id: "per_1", sessionID: S, permission: "bash", patterns: ["rm *"] },
    ]);
    state = run(state, ev("permission.replied", { sessionID: S, requestID: "per_1", reply: "once" }));
    expect(state.permissions).toEqual([]);
  });

  it("removes messages and parts", () => {
    let state = run(
      initialChat(S),
      partUpdated({ id: "prt_a", messageID: "msg_2", sessionID: S, type: "text", text: "x" }),
    );
    state = run(state, ev("message.part.removed", { sessionID: S, messageID: "msg_2", partID: "prt_a" }));
    expect(state.messages[0]?.parts).toEqual([]);
    state = run(state, ev("message.removed", { sessionID: S, messageID: "msg_2" }));
    expect(state.messages).toEqual([]);
  });
});

describe("resync after the stream comes back", () => {
  it("replaces state with the snapshot and replays full updates that raced it", () => {
    let state = chatReducer(initialChat(S), { type: "resync-start" });
    // Arrive while the snapshot is being fetched:
    state = run(
      state,
      partUpdated({ id: "prt_a", messageID: "msg_2", sessionID: S, type: "text", text: "Hello wor" }),
      delta("msg_2", "prt_a", "ld"),
      msgUpdated("msg_2", 42),
    );
    // The snapshot was taken before the completion; it already has the delta's text.
    const snapshot: Message[] = [
      user("msg_1", "hi"),
      {
        info: { id: "msg_2", sessionID: S, role: "assistant", time: { created: 2 } },
        parts: [{ id: "prt_a", messageID: "msg_2", sessionID: S, type: "text", text: "Hello world" }],
      },
    ];
    state = chatReducer(state, { type: "snapshot", messages: snapshot, status: "busy" });
    expect(state.syncing).toBe(false);
    expect(state.loaded).toBe(true);
    expect(state.messages.map((m) => m.info.id)).toEqual(["msg_1", "msg_2"]);
    // The completion (a full object) was replayed; the delta was not applied twice.
    expect(state.messages[1]?.info.time.completed).toBe(42);
    expect(textOf(state, "msg_2")).toBe("Hello wor");
    // ...and the final full part update makes the text whole again.
    state = run(
      state,
      partUpdated({ id: "prt_a", messageID: "msg_2", sessionID: S, type: "text", text: "Hello world" }),
    );
    expect(textOf(state, "msg_2")).toBe("Hello world");
  });

  it("drops what the snapshot no longer has (e.g. reverted while offline)", () => {
    let state = run(
      initialChat(S),
      partUpdated({ id: "prt_x", messageID: "msg_9", sessionID: S, type: "text", text: "gone" }),
    );
    state = chatReducer(state, { type: "resync-start" });
    state = chatReducer(state, { type: "snapshot", messages: [user("msg_1", "hi")], status: "idle" });
    expect(state.messages.map((m) => m.info.id)).toEqual(["msg_1"]);
    expect(isBusy(state)).toBe(false);
  });

  it("after the snapshot, deltas stream normally again", () => {
    let state = chatReducer(initialChat(S), { type: "resync-start" });
    state = chatReducer(state, {
      type: "snapshot",
      messages: [
        {
          info: { id: "msg_2", sessionID: S, role: "assistant", time: { created: 2 } },
          parts: [{ id: "prt_a", messageID: "msg_2", sessionID: S, type: "text", text: "Hel" }],
        },
      ],
      status: "busy",
    });
    state = run(state, delta("msg_2", "prt_a", "lo"));
    expect(textOf(state, "msg_2")).toBe("Hello");
    expect(state.replay).toEqual([]);
  });

  it("reset (another conversation opened) starts empty", () => {
    const state = run(initialChat(S), msgUpdated("msg_2"));
    expect(chatReducer(state, { type: "reset", sessionId: "ses_2" })).toEqual(initialChat("ses_2"));
  });
});

describe("a model that does not answer", () => {
  it("shows each retry, then the error, and is busy until the turn ends", () => {
    let state = run(
      initialChat(S),
      ev("session.status", { sessionID: S, status: { type: "busy" } }),
      ev("session.status", {
        sessionID: S,
        status: { type: "retry", attempt: 2, message: "Connection refused", next: 12345 },
      }),
    );
    expect(isBusy(state)).toBe(true);
    expect(state.retry).toEqual({ attempt: 2, message: "Connection refused", next: 12345 });
    state = run(
      state,
      ev("session.error", { sessionID: S, error: { name: "APIError", data: { message: "gave up" } } }),
      ev("session.status", { sessionID: S, status: { type: "idle" } }),
    );
    expect(state.retry).toBeNull();
    expect(state.error).toBe("gave up");
    expect(isBusy(state)).toBe(false);
  });

  it("a retry status without details still says what is going on", () => {
    const state = run(initialChat(S), ev("session.status", { sessionID: S, status: { type: "retry" } }));
    expect(state.retry?.message).toBe("the model did not answer");
    expect(state.retry?.attempt).toBe(1);
  });
});

describe("what the agent waits on", () => {
  const question = (id: string, sessionID = S) => ({
    id,
    sessionID,
    questions: [
      { question: "Which colour?", header: "Colour", options: [{ label: "Red", description: "warm" }] },
    ],
  });
  const permission = (id: string, sessionID = S) => ({
    id,
    sessionID,
    permission: "external_directory",
    patterns: ["/etc/*"],
  });

  it("shows a question until it is answered or dismissed, and ignores other conversations'", () => {
    let state = run(
      initialChat(S),
      ev("question.asked", question("que_1")),
      ev("question.asked", question("que_2")),
      ev("question.asked", question("que_x", "ses_other")),
    );
    expect(state.questions.map((q) => q.id)).toEqual(["que_1", "que_2"]);
    expect(state.questions[0]?.questions[0]?.custom).toBe(true);
    state = run(state, ev("question.replied", { sessionID: S, requestID: "que_1", answers: [["Red"]] }));
    state = run(state, ev("question.rejected", { sessionID: S, requestID: "que_2" }));
    expect(state.questions).toEqual([]);
  });

  it("drops a question answered here before its event comes", () => {
    let state = run(initialChat(S), ev("question.asked", question("que_1")));
    state = chatReducer(state, { type: "question-answered", id: "que_1" });
    expect(state.questions).toEqual([]);
  });

  it("lists pending requests in the snapshot, this conversation's only, and replays what raced it", () => {
    let state = chatReducer(initialChat(S), { type: "resync-start" });
    // Answered elsewhere while the lists were fetched (which still had it):
    state = run(state, ev("question.replied", { sessionID: S, requestID: "que_1", answers: [["Red"]] }));
    state = chatReducer(state, {
      type: "snapshot",
      messages: [],
      status: "busy",
      waiting: {
        permissions: [permission("per_1"), permission("per_x", "ses_other")],
        questions: [question("que_1"), question("que_2"), question("que_x", "ses_other")],
      },
      todos: [{ content: "write tests", status: "in_progress", priority: "high" }],
    });
    expect(state.permissions.map((p) => p.id)).toEqual(["per_1"]);
    expect(state.questions.map((q) => q.id)).toEqual(["que_2"]);
    expect(state.todos).toEqual([{ content: "write tests", status: "in_progress", priority: "high" }]);
  });

  it("keeps the todo list current from todo.updated", () => {
    let state = run(
      initialChat(S),
      ev("todo.updated", { sessionID: S, todos: [{ content: "a", status: "pending", priority: "high" }] }),
    );
    expect(state.todos.map((t) => t.status)).toEqual(["pending"]);
    state = run(
      state,
      ev("todo.updated", {
        sessionID: S,
        todos: [
          { content: "a", status: "completed", priority: "high" },
          { content: "b", status: "bogus", priority: "low" },
          { status: "pending" },
        ],
      }),
      ev("todo.updated", { sessionID: "ses_other", todos: [] }),
    );
    expect(state.todos).toEqual([
      { content: "a", status: "completed", priority: "high" },
      { content: "b", status: "pending", priority: "low" },
    ]);
  });
});
