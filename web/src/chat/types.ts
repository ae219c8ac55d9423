/** The parts of opencode's API the chat uses (opencode 1.18; see its `/doc`). */

export interface ModelRef {
  providerID: string;
  modelID: string;
}

export interface OcSession {
  id: string;
  title: string;
  parentID?: string;
  directory?: string;
  time: { created: number; updated: number };
}

export interface MessageInfo {
  id: string;
  sessionID: string;
  role: "user" | "assistant";
  time: { created: number; completed?: number };
  error?: { name: string; data?: { message?: string } };
  modelID?: string;
  providerID?: string;
  /** A user message's model (an assistant message names it in modelID/providerID). */
  model?: ModelRef;
  /** An assistant message's usage, as the provider reported it. */
  tokens?: { input: number; output: number; reasoning?: number; cache?: { read: number; write: number } };
  cost?: number;
}

export type ToolStatus = "pending" | "running" | "completed" | "error";

export interface ToolState {
  status: ToolStatus;
  input?: Record<string, unknown>;
  output?: string;
  error?: string;
  title?: string;
  metadata?: Record<string, unknown>;
}

interface PartBase {
  id: string;
  messageID: string;
  sessionID: string;
}

export interface TextPart extends PartBase {
  type: "text" | "reasoning";
  text: string;
  synthetic?: boolean;
  time?: { start: number; end?: number };
}

export interface ToolPart extends PartBase {
  type: "tool";
  tool: string;
  callID: string;
  state: ToolState;
}

export interface PatchPart extends PartBase {
  type: "patch";
  files: string[];
}

export interface FilePart extends PartBase {
  type: "file";
  filename?: string;
  mime?: string;
}

export interface OtherPart extends PartBase {
  type: "step-start" | "step-finish" | "snapshot" | "agent" | "retry" | "compaction" | "subtask";
}

export type Part = TextPart | ToolPart | PatchPart | FilePart | OtherPart;

export interface Message {
  info: MessageInfo;
  parts: Part[];
}

export type RunStatus = "idle" | "busy" | "retry";

/** opencode's `session.status` while the model does not answer and it tries again. */
export interface RetryInfo {
  attempt: number;
  message: string;
  /** When the next attempt starts (epoch ms). */
  next: number;
}

export interface PermissionRequest {
  id: string;
  sessionID: string;
  permission: string;
  patterns: string[];
}

export type PermissionReply = "once" | "always" | "reject";

export interface QuestionOption {
  label: string;
  description: string;
}

/** One question of opencode's `question` tool. */
export interface QuestionInfo {
  question: string;
  /** A very short label (opencode asks the model for at most 30 characters). */
  header: string;
  options: QuestionOption[];
  /** Several options may be picked. */
  multiple?: boolean;
  /** A typed answer is allowed (opencode's default: yes). */
  custom?: boolean;
}

/** A pending `question` call: the tool waits until it is answered or dismissed. */
export interface QuestionRequest {
  id: string;
  sessionID: string;
  questions: QuestionInfo[];
}

/** Per question, in order, the picked option labels (and any typed answer). */
export type QuestionAnswers = string[][];

export type TodoStatus = "pending" | "in_progress" | "completed" | "cancelled";

/** One item of the agent's todo list (its `todowrite` tool). */
export interface Todo {
  content: string;
  status: TodoStatus;
  priority: string;
}

export interface ProviderList {
  providers: { id: string; name: string; models: Record<string, { id: string; name: string }> }[];
  default: Record<string, string>;
}

/** One event from opencode's `/event` stream (only the fields the chat reads). */
export interface OcEvent {
  type: string;
  properties: Record<string, unknown>;
}
