/**
 * The one way the app calls the control plane: same-origin, cookie credentials, CSRF
 * header on state changes, JSON errors turned into `ApiError`. The bearer token the login
 * endpoint also returns is never kept: the HttpOnly cookie is the browser's credential.
 */
import { currentCsrfHeaders } from "./csrf";
import type { ErrorEnvelope } from "./types";

/**
 * The server's code (`ErrorEnvelope.error`), or one made here: `network_error` and
 * `aborted` when no answer came, `http_error` when one came without the envelope (a proxy's
 * error page, say).
 */
export type ErrorCode = ErrorEnvelope["error"] | "network_error" | "aborted" | "http_error";

export class ApiError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly retryAfter: number | null;

  constructor(status: number, code: ErrorCode, message: string, retryAfter: number | null = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

type UnauthorizedHandler = () => void;
let onUnauthorized: UnauthorizedHandler | null = null;

/** Called on any 401 from the API (expired or revoked sign-in). */
export function setUnauthorizedHandler(handler: UnauthorizedHandler | null): void {
  onUnauthorized = handler;
}

export function notifyUnauthorized(): void {
  onUnauthorized?.();
}

export interface RequestOptions {
  method?: string;
  json?: unknown;
  body?: BodyInit;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Do not treat 401 as "signed out" (the login form itself). */
  quiet401?: boolean;
}

export async function errorFrom(response: Response): Promise<ApiError> {
  let code: ErrorCode = "http_error";
  let message = `${response.status} ${response.statusText}`.trim();
  try {
    const body = (await response.json()) as { [K in keyof ErrorEnvelope]?: unknown };
    // The code is taken as the server's word: the types carry no list to check it against.
    if (typeof body.error === "string") code = body.error as ErrorEnvelope["error"];
    if (typeof body.message === "string") message = body.message;
  } catch {
    // Not JSON (e.g. a proxy's error page): keep the status line.
  }
  const retry = Number(response.headers.get("Retry-After"));
  return new ApiError(response.status, code, message, Number.isFinite(retry) && retry > 0 ? retry : null);
}

export async function request(path: string, options: RequestOptions = {}): Promise<Response> {
  const method = (options.method ?? "GET").toUpperCase();
  const headers: Record<string, string> = { ...currentCsrfHeaders(method), ...options.headers };
  let body = options.body;
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.json);
  }
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body ?? null,
      credentials: "same-origin",
      signal: options.signal ?? null,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(0, "network_error", "cannot reach the server; check your connection");
  }
  if (!response.ok) {
    const error = await errorFrom(response);
    if (response.status === 401 && !options.quiet401) notifyUnauthorized();
    throw error;
  }
  return response;
}

export async function requestJson<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await request(path, options);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
