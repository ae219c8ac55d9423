import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError, request, requestJson, setUnauthorizedHandler } from "./http";

function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

describe("request", () => {
  let fetchMock: ReturnType<typeof vi.fn>;

  beforeEach(() => {
    fetchMock = vi.fn();
    vi.stubGlobal("fetch", fetchMock);
    vi.stubGlobal("document", { cookie: "oqto_session=s3cret; oqto_csrf=csrf-value" });
  });

  afterEach(() => {
    vi.unstubAllGlobals();
    setUnauthorizedHandler(null);
  });

  it("adds the CSRF header and same-origin credentials to a POST", async () => {
    fetchMock.mockResolvedValue(jsonResponse(200, { ok: true }));
    await requestJson("/api/sessions", { method: "POST", json: { workspace: "w" } });
    const [url, init] = fetchMock.mock.calls[0] as [string, RequestInit];
    expect(url).toBe("/api/sessions");
    expect(init.credentials).toBe("same-origin");
    expect(init.headers).toMatchObject({ "X-CSRF-Token": "csrf-value", "Content-Type": "application/json" });
    expect(init.body).toBe('{"workspace":"w"}');
  });

  it("adds no CSRF header to a GET and never an Authorization header", async () => {
    fetchMock.mockResolvedValue(jsonResponse(200, []));
    await requestJson("/api/sessions");
    const init = (fetchMock.mock.calls[0] as [string, RequestInit])[1];
    expect(init.headers).toEqual({});
  });

  it("turns the JSON error shape into ApiError with Retry-After", async () => {
    fetchMock.mockResolvedValue(
      jsonResponse(429, { error: "too_many_attempts", message: "wait" }, { "Retry-After": "7" }),
    );
    const error = await request("/api/auth/login", { method: "POST", quiet401: true }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 429, code: "too_many_attempts", message: "wait", retryAfter: 7 });
  });

  it("reports a 401 as signed out, unless told not to", async () => {
    const signedOut = vi.fn();
    setUnauthorizedHandler(signedOut);
    fetchMock.mockResolvedValue(jsonResponse(401, { error: "unauthorized", message: "no" }));
    await expect(request("/api/sessions")).rejects.toBeInstanceOf(ApiError);
    expect(signedOut).toHaveBeenCalledTimes(1);
    await expect(request("/api/auth/login", { method: "POST", quiet401: true })).rejects.toBeInstanceOf(
      ApiError,
    );
    expect(signedOut).toHaveBeenCalledTimes(1);
  });

  it("keeps the status line when the error body is not JSON", async () => {
    fetchMock.mockResolvedValue(
      new Response("<html>bad gateway</html>", { status: 502, statusText: "Bad Gateway" }),
    );
    await expect(request("/api/x")).rejects.toMatchObject({
      status: 502,
      code: "http_error",
      message: "502 Bad Gateway",
    });
  });

  it("reports a network failure as such", async () => {
    fetchMock.mockRejectedValue(new TypeError("Failed to fetch"));
    await expect(request("/api/x")).rejects.toMatchObject({ status: 0, code: "network_error" });
  });
});
