/**
 * The chat of one opencode session as a pure reducer over opencode's events, so the
 * streaming and resync rules can be unit-tested without a browser.
 *
 * Resync: whenever the event stream (re)opens, the view fetches a snapshot of the
 * messages. Events that arrive while that fetch is in flight are applied at once (the
 * answer keeps streaming) and also remembered; when the snapshot lands it replaces the
 * state, then the remembered events are applied again on top, in order. Full objects
 * (`message.updated`, `message.part.updated`) converge to the newest version this way.
 * Text deltas are not replayed: the snapshot may already contain them and appending twice
 * would duplicate text; a part that missed some is made whole by its final
 * `message.part.updated`, which carries the full text.
 *
 * What the agent waits on (permission requests, questions) and the todo list are part of
 * the snapshot too, listed from opencode's routes: their `*.asked` events went out before
 * a reload, so events alone would lose them.
 */
import { parsePermission, parseQuestion, parseTodos } from "./pending";
import type {
  Message,
  MessageInfo,
  OcEvent,
  Part,
  PermissionRequest,
  QuestionRequest,
  RetryInfo,
  RunStatus,
  Todo,
} from "./types";

export interface ChatState {
  sessionId: string;
  messages: Message[];
  status: RunStatus;
  /** While opencode retries a model that does not answer: why, and when next. */
  retry: RetryInfo | null;
  error: string | null;
  permissions: PermissionRequest[];
  questions: QuestionRequest[];
  todos: Todo[];
  syncing: boolean;
  replay: OcEvent[];
  loaded: boolean;
}

export type ChatAction =
  | { type: "event"; event: OcEvent }
  | { type: "resync-start" }
  | { type: "snapshot"; messages: Message[]; status: RunStatus; waiting?: Waiting; todos?: Todo[] }
  | { type: "reset"; sessionId: string }
  | { type: "dismiss-error" }
  | { type: "permission-answered"; id: string }
  | { type: "question-answered"; id: string };

/** Everything opencode waits on (its instance-wide lists; the reducer keeps this
 * conversation's). */
export interface Waiting {
  permissions: PermissionRequest[];
  questions: QuestionRequest[];
}

export function initialChat(sessionId: string): ChatState {
  return {
    sessionId,
    messages: [],
    status: "idle",
    retry: null,
    error: null,
    permissions: [],
    questions: [],
    todos: [],
    syncing: false,
    replay: [],
    loaded: false,
  };
}

const str = (value: unknown): string | null => (typeof value === "string" ? value : null);

function byId<T extends { id: string }>(a: { info: T } | T, b: { info: T } | T): number {
  const ida = "info" in a ? a.info.id : a.id;
  const idb = "info" in b ? b.info.id : b.id;
  // opencode ids sort in creation order.
  return ida < idb ? -1 : ida > idb ? 1 : 0;
}

function upsertMessage(messages: Message[], info: MessageInfo): Message[] {
  const index = messages.findIndex((m) => m.info.id === info.id);
  if (index >= 0) {
    const next = messages.slice();
    next[index] = { info, parts: messages[index]?.parts ?? [] };
    return next;
  }
  return [...messages, { info, parts: [] }].sort(byId);
}

function placeholderInfo(part: Part): MessageInfo {
  // A part can arrive before its message's own event (or after a missed one); the real
  // info replaces this when it comes.
  return { id: part.messageID, sessionID: part.sessionID, role: "assistant", time: { created: 0 } };
}

function upsertPart(messages: Message[], part: Part): Message[] {
  let list = messages;
  if (!list.some((m) => m.info.id === part.messageID)) {
    list = upsertMessage(list, placeholderInfo(part));
  }
  return list.map((message) => {
    if (message.info.id !== part.messageID) return message;
    const index = message.parts.findIndex((p) => p.id === part.id);
    const parts = message.parts.slice();
    if (index >= 0) parts[index] = part;
    else parts.push(part);
    parts.sort(byId);
    return { ...message, parts };
  });
}

function applyDelta(
  messages: Message[],
  messageID: string,
  partID: string,
  field: string,
  delta: string,
  sessionID: string,
): Message[] {
  const message = messages.find((m) => m.info.id === messageID);
  const existing = message?.parts.find((p) => p.id === partID);
  if (!existing) {
    if (field !== "text") return messages;
    return upsertPart(messages, { id: partID, messageID, sessionID, type: "text", text: delta });
  }
  const current = (existing as unknown as Record<string, unknown>)[field];
  if (typeof current !== "string" && current !== undefined) return messages;
  return upsertPart(messages, { ...existing, [field]: (current ?? "") + delta });
}

function errorText(error: unknown): string | null {
  if (!error || typeof error !== "object") return null;
  const record = error as { name?: unknown; data?: { message?: unknown } };
  // An abort the person asked for is not an error worth a banner.
  if (record.name === "MessageAbortedError") return null;
  return str(record.data?.message) ?? str(record.name) ?? "the agent reported an error";
}

/** Apply one event; events of other opencode sessions leave the state as it is. */
export function applyEvent(state: ChatState, event: OcEvent): ChatState {
  const props = event.properties;
  const sessionID =
    str(props.sessionID) ?? str((props.info as { sessionID?: unknown } | undefined)?.sessionID);
  if (sessionID !== null && sessionID !== state.sessionId) return state;
  switch (event.type) {
    case "message.updated": {
      const info = props.info as MessageInfo | undefined;
      if (!info || info.sessionID !== state.sessionId) return state;
      return { ...state, messages: upsertMessage(state.messages, info) };
    }
    case "message.removed": {
      const id = str(props.messageID);
      return { ...state, messages: state.messages.filter((m) => m.info.id !== id) };
    }
    case "message.part.updated": {
      const part = props.part as Part | undefined;
      if (!part || part.sessionID !== state.sessionId) return state;
      return { ...state, messages: upsertPart(state.messages, part) };
    }
    case "message.part.removed": {
      const messageID = str(props.messageID);
      const partID = str(props.partID);
      return {
        ...state,
        messages: state.messages.map((m) =>
          m.info.id === messageID ? { ...m, parts: m.parts.filter((p) => p.id !== partID) } : m,
        ),
      };
    }
    case "message.part.delta": {
      const messageID = str(props.messageID);
      const partID = str(props.partID);
      const field = str(props.field);
      const delta = str(props.delta);
      if (!messageID || !partID || !field || delta === null) return state;
      return {
        ...state,
        messages: applyDelta(state.messages, messageID, partID, field, delta, state.sessionId),
      };
    }
    case "session.status": {
      const status = (props.status ?? {}) as Record<string, unknown>;
      const type = str(status.type);
      if (type !== "idle" && type !== "busy" && type !== "retry") return state;
      const retry =
        type === "retry"
          ? {
              attempt: typeof status.attempt === "number" ? status.attempt : 1,
              message: str(status.message) ?? "the model did not answer",
              next: typeof status.next === "number" ? status.next : Date.now(),
            }
          : null;
      return { ...state, status: type, retry, error: type === "busy" ? null : state.error };
    }
    case "session.idle":
      return { ...state, status: "idle", retry: null };
    case "session.error": {
      const message = errorText(props.error);
      return message ? { ...state, error: message } : state;
    }
    case "permission.asked": {
      const request = parsePermission(props);
      if (!request) return state;
      return { ...state, permissions: [...state.permissions.filter((p) => p.id !== request.id), request] };
    }
    case "permission.replied": {
      const id = str(props.requestID) ?? str(props.permissionID) ?? str(props.id);
      return { ...state, permissions: state.permissions.filter((p) => p.id !== id) };
    }
    case "question.asked": {
      const request = parseQuestion(props);
      if (!request) return state;
      return { ...state, questions: [...state.questions.filter((q) => q.id !== request.id), request] };
    }
    case "question.replied":
    case "question.rejected": {
      const id = str(props.requestID);
      return { ...state, questions: state.questions.filter((q) => q.id !== id) };
    }
    case "todo.updated":
      return { ...state, todos: parseTodos(props.todos) };
    default:
      return state;
  }
}

export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case "reset":
      return initialChat(action.sessionId);
    case "resync-start":
      return { ...state, syncing: true, replay: [] };
    case "event": {
      const next = applyEvent(state, action.event);
      if (!state.syncing || action.event.type === "message.part.delta") return next;
      return { ...next, replay: [...next.replay, action.event] };
    }
    case "snapshot": {
      let next: ChatState = {
        ...state,
        messages: action.messages.slice().sort(byId),
        status: action.status,
        retry: action.status === "retry" ? state.retry : null,
        permissions: action.waiting
          ? action.waiting.permissions.filter((p) => p.sessionID === state.sessionId)
          : state.permissions,
        questions: action.waiting
          ? action.waiting.questions.filter((q) => q.sessionID === state.sessionId)
          : state.questions,
        todos: action.todos ?? state.todos,
        syncing: false,
        replay: [],
        loaded: true,
      };
      for (const event of state.replay) next = applyEvent(next, event);
      return next;
    }
    case "dismiss-error":
      return { ...state, error: null };
    case "permission-answered":
      return { ...state, permissions: state.permissions.filter((p) => p.id !== action.id) };
    case "question-answered":
      return { ...state, questions: state.questions.filter((q) => q.id !== action.id) };
  }
}

/** The turn is running: show "stop", not "send". */
export function isBusy(state: ChatState): boolean {
  return state.status !== "idle";
}
