import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { loadTabs, MAX_TERMINALS, nextName, saveTabs } from "./terminalTabs";

describe("terminal tabs", () => {
  beforeEach(() => {
    const store = new Map<string, string>();
    vi.stubGlobal("localStorage", {
      getItem: (key: string) => store.get(key) ?? null,
      setItem: (key: string, value: string) => store.set(key, value),
    });
  });
  afterEach(() => vi.unstubAllGlobals());

  it("starts with terminal 1 and keeps what was saved, per session", () => {
    expect(loadTabs("s1")).toEqual({ names: ["1"], active: "1" });
    saveTabs("s1", { names: ["1", "3"], active: "3" });
    expect(loadTabs("s1")).toEqual({ names: ["1", "3"], active: "3" });
    expect(loadTabs("s2")).toEqual({ names: ["1"], active: "1" });
  });

  it("drops stored names the server would refuse, duplicates and more than the maximum", () => {
    const names = ["-t", "2", "2", "0", "100", 7, ...Array.from({ length: 12 }, (_, i) => String(i + 10))];
    localStorage.setItem("oqto-terminals:s", JSON.stringify({ names, active: "-t" }));
    const tabs = loadTabs("s");
    expect(tabs.names).toHaveLength(MAX_TERMINALS);
    expect(tabs.names.slice(0, 2)).toEqual(["2", "10"]);
    expect(tabs.active).toBe("2");
    localStorage.setItem("oqto-terminals:s", "not json");
    expect(loadTabs("s")).toEqual({ names: ["1"], active: "1" });
  });

  it("names a new terminal with the lowest free number", () => {
    expect(nextName([])).toBe("1");
    expect(nextName(["1", "2", "4"])).toBe("3");
    expect(nextName(["2"])).toBe("1");
  });
});
