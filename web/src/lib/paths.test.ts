import { describe, expect, it } from "vitest";
import { baseName, isPreviewableImage, joinPath, languageFor, nameProblem, parentPath } from "./paths";

describe("workspace paths", () => {
  it("joins and splits relative paths", () => {
    expect(joinPath("", "a.txt")).toBe("a.txt");
    expect(joinPath("src", "/b/")).toBe("src/b");
    expect(parentPath("src/lib/a.ts")).toBe("src/lib");
    expect(parentPath("a.ts")).toBe("");
    expect(baseName("src/lib/a.ts")).toBe("a.ts");
  });

  it("accepts plain names only", () => {
    expect(nameProblem("notes.md")).toBeNull();
    expect(nameProblem("  ")).not.toBeNull();
    expect(nameProblem("a/b")).not.toBeNull();
    expect(nameProblem("..")).not.toBeNull();
  });

  it("previews raster images only (never SVG) and maps languages", () => {
    expect(isPreviewableImage("x.PNG")).toBe(true);
    expect(isPreviewableImage("x.svg")).toBe(false);
    expect(languageFor("a/b/main.py")).toBe("python");
    expect(languageFor("Dockerfile")).toBe("dockerfile");
    expect(languageFor("README")).toBeNull();
  });
});
