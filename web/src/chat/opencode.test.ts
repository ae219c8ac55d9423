import { describe, expect, it } from "vitest";
import { agentBase, modelChoices } from "./opencode";
import type { ProviderList } from "./types";

describe("modelChoices", () => {
  const providers: ProviderList["providers"] = [
    { id: "a", name: "Alpha", models: { m1: { id: "m1", name: "One" }, m2: { id: "m2", name: "Two" } } },
    { id: "b", name: "Beta", models: { x: { id: "x", name: "Ex" } } },
  ];

  it("lists every model and prefers opencode's default", () => {
    const { choices, preferred } = modelChoices({ providers, default: { b: "x" } });
    expect(choices.map((c) => c.label)).toEqual(["Alpha · One", "Alpha · Two", "Beta · Ex"]);
    expect(preferred).toEqual({ providerID: "b", modelID: "x" });
  });

  it("falls back to the first model when the default is not offered", () => {
    expect(modelChoices({ providers, default: { gone: "y" } }).preferred).toEqual({
      providerID: "a",
      modelID: "m1",
    });
    expect(modelChoices({ providers: [], default: {} })).toEqual({ choices: [], preferred: null });
  });
});

describe("agentBase", () => {
  it("reaches opencode only through the control plane's proxy", () => {
    expect(agentBase("s/1")).toBe("/api/sessions/s%2F1/agent");
  });
});
