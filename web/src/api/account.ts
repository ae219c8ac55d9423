import { requestJson } from "./http";
import type { ApiToken, ApiTokenCreated } from "./types";

export const changePassword = (currentPassword: string, newPassword: string): Promise<void> =>
  requestJson<undefined>("/api/account/password", {
    method: "POST",
    json: { current_password: currentPassword, new_password: newPassword },
  });

export const listTokens = (): Promise<ApiToken[]> => requestJson<ApiToken[]>("/api/account/tokens");

export const createToken = (name: string, expiresInDays: number | null): Promise<ApiTokenCreated> =>
  requestJson<ApiTokenCreated>("/api/account/tokens", {
    method: "POST",
    json: { name, expires_in_days: expiresInDays },
  });

export const revokeToken = (id: string): Promise<void> =>
  requestJson<undefined>(`/api/account/tokens/${encodeURIComponent(id)}`, { method: "DELETE" });
