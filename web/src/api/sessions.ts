import { requestJson } from "./http";
import type { Session } from "./types";

const base = "/api/sessions";

export const listSessions = (): Promise<Session[]> => requestJson<Session[]>(base);

export const createSession = (workspace: string): Promise<Session> =>
  requestJson<Session>(base, { method: "POST", json: { workspace } });

export const stopSession = (id: string): Promise<Session> =>
  requestJson<Session>(`${base}/${encodeURIComponent(id)}/stop`, { method: "POST" });

export const resumeSession = (id: string): Promise<Session> =>
  requestJson<Session>(`${base}/${encodeURIComponent(id)}/resume`, { method: "POST" });

export const deleteSession = (id: string): Promise<void> =>
  requestJson<undefined>(`${base}/${encodeURIComponent(id)}`, { method: "DELETE" });
