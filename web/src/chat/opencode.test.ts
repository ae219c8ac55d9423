import { describe, expect, it } from "vitest";
import { agentBase, lastModel, modelChoices, parseModelRef } from "./opencode";
import type { Message, ProviderList } from "./types";

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

describe("the model a conversation starts with", () => {
  const providers: ProviderList["providers"] = [
    { id: "zen", name: "Zen", models: { cloud: { id: "cloud", name: "Cloud" } } },
    { id: "mine", name: "Mine", models: { a: { id: "a", name: "A" }, "b/c": { id: "b/c", name: "BC" } } },
  ];
  const defaults = { zen: "cloud", mine: "a" };

  it("is the configured model, not the first of opencode's per-provider defaults", () => {
    expect(modelChoices({ providers, default: defaults }, parseModelRef("mine/b/c")).preferred).toEqual({
      providerID: "mine",
      modelID: "b/c",
    });
  });

  it("ignores a configured model that is not offered", () => {
    expect(modelChoices({ providers, default: defaults }, parseModelRef("gone/x")).preferred).toEqual({
      providerID: "zen",
      modelID: "cloud",
    });
  });

  it("parses provider/model refs and refuses malformed ones", () => {
    expect(parseModelRef("p/m/x")).toEqual({ providerID: "p", modelID: "m/x" });
    for (const bad of ["", "p", "/m", "p/"]) expect(parseModelRef(bad)).toBeNull();
  });

  it("a conversation keeps the model its newest message used", () => {
    const msg = (id: string, info: Partial<Message["info"]>): Message => ({
      info: { id, sessionID: "s", role: "user", time: { created: 0 }, ...info },
      parts: [],
    });
    expect(lastModel([])).toBeNull();
    expect(
      lastModel([
        msg("1", { role: "assistant", providerID: "zen", modelID: "cloud" }),
        msg("2", { model: { providerID: "mine", modelID: "a" } }),
        msg("3", { role: "assistant" }),
      ]),
    ).toEqual({ providerID: "mine", modelID: "a" });
  });
});

describe("agentBase", () => {
  it("reaches opencode only through the control plane's proxy", () => {
    expect(agentBase("s/1")).toBe("/api/sessions/s%2F1/agent");
  });
});
