import { describe, expect, it } from "vitest";
import { clampRatio, MIN_RATIO } from "./splitRatio";

describe("split ratio", () => {
  it("keeps both panes at least the minimum share", () => {
    expect(clampRatio(0.5)).toBe(0.5);
    expect(clampRatio(0)).toBe(MIN_RATIO);
    expect(clampRatio(2)).toBe(1 - MIN_RATIO);
    expect(clampRatio(0.1, 0.3)).toBe(0.3);
  });
});
