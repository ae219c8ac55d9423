import { describe, expect, it } from "vitest";
import { safeNext } from "./redirect";

describe("safeNext", () => {
  it.each([
    ["/sessions/abc", "/sessions/abc"],
    ["/admin/users?x=1#top", "/admin/users?x=1#top"],
    ["/a/../admin", "/admin"],
  ])("keeps a path on our origin: %s", (next, expected) => {
    expect(safeNext(next)).toBe(expected);
  });

  it.each([
    null,
    "",
    "https://evil.example/",
    "//evil.example/path",
    "/\\evil.example",
    "javascript:alert(1)",
    "evil.example",
    "/\nfoo",
    "/login",
    "/register?x",
  ])("refuses %s", (next) => {
    expect(safeNext(next)).toBe("/");
  });
});
