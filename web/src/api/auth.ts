import { requestJson } from "./http";
import type { Health, User } from "./types";

export function fetchMe(): Promise<User> {
  return requestJson<User>("/api/auth/me", { quiet401: true });
}

export async function login(username: string, password: string): Promise<User> {
  // The response also carries the bearer token for API clients; the browser ignores it
  // and relies on the HttpOnly cookie set alongside.
  const body = await requestJson<{ user: User }>("/api/auth/login", {
    method: "POST",
    json: { username, password },
    quiet401: true,
  });
  return body.user;
}

export function register(username: string, password: string, inviteCode: string): Promise<unknown> {
  return requestJson<unknown>("/api/auth/register", {
    method: "POST",
    json: { username, password, invite_code: inviteCode },
    quiet401: true,
  });
}

export function logout(): Promise<void> {
  return requestJson<undefined>("/api/auth/logout", { method: "POST", quiet401: true });
}

export function fetchHealth(): Promise<Health> {
  return requestJson<Health>("/api/health");
}
