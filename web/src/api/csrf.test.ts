import { describe, expect, it } from "vitest";
import { CSRF_HEADER, csrfHeaders, needsCsrf, readCookie } from "./csrf";

describe("readCookie", () => {
  it("finds a cookie among others and decodes it", () => {
    expect(readCookie("a=1; oqto_csrf=tok%2Den; b=2", "oqto_csrf")).toBe("tok-en");
  });
  it("does not match a cookie whose name merely ends the same", () => {
    expect(readCookie("x_oqto_csrf=bad", "oqto_csrf")).toBeNull();
  });
  it("keeps a value that is not valid percent-encoding", () => {
    expect(readCookie("oqto_csrf=%E0%A4%A", "oqto_csrf")).toBe("%E0%A4%A");
  });
  it("returns null without cookies", () => {
    expect(readCookie("", "oqto_csrf")).toBeNull();
  });
});

describe("csrfHeaders", () => {
  const cookies = "oqto_session=secret; oqto_csrf=abc123";

  it.each(["POST", "PUT", "PATCH", "DELETE", "post"])("sends the token on %s", (method) => {
    expect(csrfHeaders(method, cookies)).toEqual({ [CSRF_HEADER]: "abc123" });
  });

  it.each(["GET", "HEAD", "OPTIONS"])("sends nothing on %s", (method) => {
    expect(csrfHeaders(method, cookies)).toEqual({});
    expect(needsCsrf(method)).toBe(false);
  });

  it("sends nothing when there is no CSRF cookie (not signed in)", () => {
    expect(csrfHeaders("POST", "oqto_session=secret")).toEqual({});
  });

  it("never copies the session cookie into a header", () => {
    expect(JSON.stringify(csrfHeaders("POST", cookies))).not.toContain("secret");
  });
});
