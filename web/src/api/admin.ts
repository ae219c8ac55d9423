import { requestJson } from "./http";
import type { AdminSession, AdminUser, Invite, InviteCreated, Role, RunnerHealth } from "./types";

const users = "/api/admin/users";
const user = (id: string): string => `${users}/${encodeURIComponent(id)}`;

export const listUsers = (): Promise<AdminUser[]> => requestJson<AdminUser[]>(users);

export const createUser = (username: string, password: string, role: Role): Promise<AdminUser> =>
  requestJson<AdminUser>(users, { method: "POST", json: { username, password, role } });

export const disableUser = (id: string): Promise<AdminUser> =>
  requestJson<AdminUser>(`${user(id)}/disable`, { method: "POST" });

export const enableUser = (id: string): Promise<AdminUser> =>
  requestJson<AdminUser>(`${user(id)}/enable`, { method: "POST" });

export const deleteUser = (id: string): Promise<void> =>
  requestJson<undefined>(user(id), { method: "DELETE" });

export const resetPassword = (id: string, password: string): Promise<void> =>
  requestJson<undefined>(`${user(id)}/password`, { method: "POST", json: { password } });

export const runnerHealth = (id: string): Promise<RunnerHealth> =>
  requestJson<RunnerHealth>(`${user(id)}/runner`);

export interface InviteRequest {
  max_uses: number;
  expires_in_hours: number | null;
  role: Role;
  note: string | null;
}

export const listInvites = (): Promise<Invite[]> => requestJson<Invite[]>("/api/admin/invites");

export const createInvite = (body: InviteRequest): Promise<InviteCreated> =>
  requestJson<InviteCreated>("/api/admin/invites", { method: "POST", json: body });

export const revokeInvite = (id: string): Promise<void> =>
  requestJson<undefined>(`/api/admin/invites/${encodeURIComponent(id)}`, { method: "DELETE" });

export const listAllSessions = (): Promise<AdminSession[]> =>
  requestJson<AdminSession[]>("/api/admin/sessions");

export const forceStop = (id: string): Promise<AdminSession> =>
  requestJson<AdminSession>(`/api/admin/sessions/${encodeURIComponent(id)}/stop`, {
    method: "POST",
  });
