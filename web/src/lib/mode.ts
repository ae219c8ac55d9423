import type { Health } from "../api/types";

/**
 * Whether this server can have more platform users (the admin's "create user" form,
 * invite codes, registration). Single-user mode (`oqto serve --single-user`) has exactly
 * one: every session runs as the server's own Linux account there, and so would a
 * second user's. The server refuses those requests anyway (409 `single_user`); the UI
 * just does not offer them.
 */
export type AddingUsers =
  /** The server has not said its mode yet: offer nothing, so nothing flashes. */
  { state: "unknown" } | { state: "allowed" } | { state: "refused"; reason: string };

export const SINGLE_USER_REASON =
  "This server runs in single-user mode (--single-user or [local] single_user): its one user's " +
  "sessions run as the server's own Linux account, and so would any other user's. To have more " +
  "users, run Oqto in multi-user mode, where each user gets their own Linux account.";

/**
 * `health` is `undefined` while it is being asked for and `null` if the server did not
 * answer; then the forms are offered and the server's own answer is shown if it refuses.
 */
export function addingUsers(health: Health | null | undefined): AddingUsers {
  if (health === undefined) return { state: "unknown" };
  if (health?.mode === "single-user") return { state: "refused", reason: SINGLE_USER_REASON };
  return { state: "allowed" };
}
