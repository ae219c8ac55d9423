/** The inbox's view of what every running session's agent waits on (pure, for tests). */
import type { Session } from "../api/types";
import type { PermissionRequest, QuestionRequest } from "../chat/types";

/** What one session's opencode last said it waits on, or why it could not be asked. */
export interface SessionWaiting {
  permissions: PermissionRequest[];
  questions: QuestionRequest[];
  error: string | null;
}

export interface InboxEntry extends SessionWaiting {
  session: Session;
}

export interface InboxSnapshot {
  /** Running sessions that wait on something or could not be asked, by workspace name. */
  entries: InboxEntry[];
  /** Requests waiting across them all (the nav badge). */
  count: number;
  /** Every running session has been asked at least once. */
  loaded: boolean;
}

export const emptyInbox: InboxSnapshot = { entries: [], count: 0, loaded: false };

/**
 * `answered` (per session): requests answered here that a list fetched before the answer
 * may still show; they are left out so an answered request does not blink back.
 */
export function inboxSnapshot(
  running: Session[],
  results: ReadonlyMap<string, SessionWaiting>,
  answered: ReadonlyMap<string, ReadonlySet<string>>,
): InboxSnapshot {
  const entries: InboxEntry[] = [];
  let count = 0;
  for (const session of running) {
    const result = results.get(session.id);
    if (!result) continue;
    const done = answered.get(session.id) ?? new Set<string>();
    const permissions = result.permissions.filter((p) => !done.has(p.id));
    const questions = result.questions.filter((q) => !done.has(q.id));
    count += permissions.length + questions.length;
    if (permissions.length || questions.length || result.error) {
      entries.push({ session, permissions, questions, error: result.error });
    }
  }
  entries.sort((a, b) => a.session.workspace.localeCompare(b.session.workspace));
  return { entries, count, loaded: running.every((s) => results.has(s.id)) };
}

/** A session's answered ids that a newer list of it no longer shows are gone for good
 * (ids are never reused): stop tracking them. */
export function settleAnswered(answered: Set<string>, result: SessionWaiting): void {
  const listed = new Set([...result.permissions.map((p) => p.id), ...result.questions.map((q) => q.id)]);
  for (const id of [...answered]) if (!listed.has(id)) answered.delete(id);
}
