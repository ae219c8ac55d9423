/** Shapes of the control plane's JSON (see `oqto.control.api`). */

export type Role = "admin" | "user";

export interface User {
  id: string;
  username: string;
  role: Role;
  disabled: boolean;
  created_at: string;
}

export interface AdminUser extends User {
  linux_user: string | null;
}

export type SessionStatus = "starting" | "running" | "stopping" | "stopped" | "failed";

export interface Session {
  id: string;
  workspace: string;
  status: SessionStatus;
  error: string | null;
  created_at: string;
  updated_at: string;
}

export interface AdminSession extends Session {
  username: string;
}

export interface Health {
  status: string;
  version: string;
  mode: "single-user" | "multi-user";
}

export interface ApiToken {
  id: string;
  name: string | null;
  created_at: string;
  expires_at: string | null;
}

export interface ApiTokenCreated {
  token: string;
  info: ApiToken;
}

export interface Invite {
  id: string;
  prefix: string;
  role: Role;
  max_uses: number;
  uses: number;
  note: string | null;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
}

export interface InviteCreated {
  code: string;
  invite: Invite;
}

export interface RunnerHealth {
  status: "ok" | "unavailable" | "in-process";
  detail: string;
}
