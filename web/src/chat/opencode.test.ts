import { describe, expect, it } from "vitest";
import { insertMention, mentionAt } from "./mentions";
import { agentBase, fileUrl, lastModel, modelChoices, parseModelRef, promptParts } from "./opencode";
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

describe("file mentions", () => {
  it("finds the @ being typed, only at a word start", () => {
    expect(mentionAt("look at @src/ma", 15)).toEqual({ start: 8, query: "src/ma" });
    expect(mentionAt("@", 1)).toEqual({ start: 0, query: "" });
    expect(mentionAt("mail me@example", 15)).toBeNull();
    expect(mentionAt("@done and more", 14)).toBeNull();
  });

  it("replaces the typed mention with the chosen path", () => {
    const text = "see @ma please";
    expect(mentionAt(text, 7)).toEqual({ start: 4, query: "ma" });
    expect(insertMention(text, { start: 4, query: "ma" }, 7, "src/main.py")).toEqual({
      text: "see @src/main.py please",
      caret: 17,
    });
  });

  it("sends each file as opencode's clients do: a file part with its URL and where it is mentioned", () => {
    expect(
      promptParts("look at @src/a b.py now", [{ path: "src/a b.py" }, { path: "src/a b.py" }], "/ws/"),
    ).toEqual([
      { type: "text", text: "look at @src/a b.py now" },
      {
        type: "file",
        mime: "text/plain",
        filename: "src/a b.py",
        url: "file:///ws/src/a%20b.py",
        source: { type: "file", path: "src/a b.py", text: { value: "@src/a b.py", start: 8, end: 19 } },
      },
    ]);
    expect(fileUrl("/home/x/ws", "README.md")).toBe("file:///home/x/ws/README.md");
  });
});
