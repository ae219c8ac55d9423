/**
 * The signed-in user's sessions, kept current by the control plane's `/api/events` stream.
 * Pure state transitions live here (unit-tested); the React provider wires them up.
 */
import type { SseMessage } from "./sse";
import type { Session } from "./types";

export type SessionsUpdate =
  | { kind: "resync" }
  | { kind: "upsert"; session: Session }
  | { kind: "delete"; id: string }
  | { kind: "ignore" };

export function parseSessionEvent(message: SseMessage): SessionsUpdate {
  try {
    switch (message.event) {
      case "resync":
        return { kind: "resync" };
      case "session": {
        const session = JSON.parse(message.data) as Session;
        return typeof session.id === "string" ? { kind: "upsert", session } : { kind: "ignore" };
      }
      case "session.deleted": {
        const body = JSON.parse(message.data) as { id?: unknown };
        return typeof body.id === "string" ? { kind: "delete", id: body.id } : { kind: "ignore" };
      }
      default:
        return { kind: "ignore" };
    }
  } catch {
    return { kind: "ignore" };
  }
}

/** Newest update wins per session; `updated_at` guards against an older copy overtaking. */
export function upsertSession(list: Session[], session: Session): Session[] {
  const index = list.findIndex((s) => s.id === session.id);
  if (index < 0) return [...list, session].sort(byCreated);
  const current = list[index];
  if (current && Date.parse(current.updated_at) > Date.parse(session.updated_at)) return list;
  const next = list.slice();
  next[index] = session;
  return next;
}

export function removeSession(list: Session[], id: string): Session[] {
  return list.filter((s) => s.id !== id);
}

function byCreated(a: Session, b: Session): number {
  return a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0;
}

export function workspacesOf(list: Session[]): string[] {
  return [...new Set(list.map((s) => s.workspace))].sort();
}
