/**
 * What the agent waits on (permission requests, questions) and its todo list, read from
 * opencode's events and list routes. Both carry untyped JSON, so everything is checked
 * here before the chat shows it.
 */
import type {
  PermissionRequest,
  QuestionAnswers,
  QuestionInfo,
  QuestionOption,
  QuestionRequest,
  Todo,
  TodoStatus,
} from "./types";

type Raw = Record<string, unknown>;

const isRecord = (value: unknown): value is Raw => typeof value === "object" && value !== null;
const str = (value: unknown): string | null => (typeof value === "string" ? value : null);
const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];

export function parsePermission(raw: unknown): PermissionRequest | null {
  if (!isRecord(raw)) return null;
  const id = str(raw.id);
  const sessionID = str(raw.sessionID);
  if (!id || !sessionID) return null;
  return { id, sessionID, permission: str(raw.permission) ?? "permission", patterns: strings(raw.patterns) };
}

function parseOption(raw: unknown): QuestionOption | null {
  if (!isRecord(raw)) return null;
  const label = str(raw.label);
  return label ? { label, description: str(raw.description) ?? "" } : null;
}

function parseInfo(raw: unknown): QuestionInfo | null {
  if (!isRecord(raw)) return null;
  const question = str(raw.question);
  if (!question) return null;
  const options = Array.isArray(raw.options)
    ? raw.options.map(parseOption).filter((o): o is QuestionOption => o !== null)
    : [];
  return {
    question,
    header: str(raw.header) ?? "",
    options,
    multiple: raw.multiple === true,
    // opencode allows a typed answer unless the tool call says otherwise.
    custom: raw.custom !== false,
  };
}

export function parseQuestion(raw: unknown): QuestionRequest | null {
  if (!isRecord(raw)) return null;
  const id = str(raw.id);
  const sessionID = str(raw.sessionID);
  const questions = Array.isArray(raw.questions)
    ? raw.questions.map(parseInfo).filter((q): q is QuestionInfo => q !== null)
    : [];
  if (!id || !sessionID || questions.length === 0) return null;
  return { id, sessionID, questions };
}

const TODO_STATUSES: readonly TodoStatus[] = ["pending", "in_progress", "completed", "cancelled"];

export function parseTodos(raw: unknown): Todo[] {
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((item): Todo[] => {
    if (!isRecord(item)) return [];
    const content = str(item.content);
    if (!content) return [];
    const status = TODO_STATUSES.find((s) => s === item.status) ?? "pending";
    return [{ content, status, priority: str(item.priority) ?? "medium" }];
  });
}

export function parseList<T>(raw: unknown, parse: (item: unknown) => T | null): T[] {
  return Array.isArray(raw) ? raw.map(parse).filter((item): item is T => item !== null) : [];
}

/** What the person has chosen for one question so far. */
export interface QuestionPick {
  selected: string[];
  /** A typed answer (only where the question allows one); blank counts as none. */
  typed: string;
}

export const emptyPick: QuestionPick = { selected: [], typed: "" };

/** A click on option `label`: a single-choice question keeps only it (and drops any typed
 * answer); a multiple-choice one toggles it. */
export function togglePick(pick: QuestionPick, label: string, multiple: boolean): QuestionPick {
  if (!multiple) return { selected: [label], typed: "" };
  const selected = pick.selected.includes(label)
    ? pick.selected.filter((l) => l !== label)
    : [...pick.selected, label];
  return { ...pick, selected };
}

/** Typing an answer to a single-choice question replaces the picked option. */
export function typePick(pick: QuestionPick, typed: string, multiple: boolean): QuestionPick {
  return multiple ? { ...pick, typed } : { selected: typed.trim() ? [] : pick.selected, typed };
}

/**
 * opencode's reply: per question, in order, the chosen labels, a typed answer last. Null
 * while any question has no answer yet.
 */
export function composeAnswers(questions: QuestionInfo[], picks: QuestionPick[]): QuestionAnswers | null {
  const answers = questions.map((question, index) => {
    const pick = picks[index] ?? emptyPick;
    const offered = pick.selected.filter((label) => question.options.some((o) => o.label === label));
    const typed = question.custom !== false ? pick.typed.trim() : "";
    return typed ? [...offered, typed] : offered;
  });
  return answers.every((answer) => answer.length > 0) ? answers : null;
}
