import { describe, expect, it } from "vitest";
import type { Health } from "../api/types";
import { addingUsers, SINGLE_USER_REASON } from "./mode";

const health = (mode: Health["mode"]): Health => ({ status: "ok", version: "0.1.0", mode });

describe("addingUsers", () => {
  it("refuses in single-user mode, saying why", () => {
    const result = addingUsers(health("single-user"));
    expect(result).toEqual({ state: "refused", reason: SINGLE_USER_REASON });
    expect(SINGLE_USER_REASON).toMatch(/single-user mode/);
    expect(SINGLE_USER_REASON).toMatch(/multi-user mode/);
  });

  it("allows it in multi-user mode", () => {
    expect(addingUsers(health("multi-user"))).toEqual({ state: "allowed" });
  });

  it("offers nothing while the mode is not known yet", () => {
    expect(addingUsers(undefined)).toEqual({ state: "unknown" });
  });

  it("leaves it to the server when /api/health did not answer", () => {
    expect(addingUsers(null)).toEqual({ state: "allowed" });
  });
});
