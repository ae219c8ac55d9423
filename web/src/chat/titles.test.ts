import { describe, expect, it } from "vitest";
import { conversationTitle, firstPrompt, isPlaceholderTitle, relativeTime } from "./titles";
import type { Message, OcSession } from "./types";

const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);
const session = (title: string, created = NOW - 5 * 60_000): OcSession => ({
  id: "ses_1",
  title,
  time: { created, updated: created },
});

describe("conversation titles", () => {
  it("recognises opencode's placeholder names only", () => {
    expect(isPlaceholderTitle("New session - 2026-11-27T10:11:53.388Z")).toBe(true);
    expect(isPlaceholderTitle("Child session - 2026-11-27T10:11:53.388Z")).toBe(true);
    expect(isPlaceholderTitle("New session ideas")).toBe(false);
    expect(isPlaceholderTitle("Fake session title")).toBe(false);
  });

  it("shows the generated title as it is", () => {
    expect(conversationTitle(session("Fix the login bug"), "anything", NOW)).toBe("Fix the login bug");
  });

  it("names a placeholder by the first prompt, shortened at a word", () => {
    const placeholder = session("New session - 2026-12-02T11:55:00.000Z");
    expect(conversationTitle(placeholder, "  please   fix\nthe tests ", NOW)).toBe("please fix the tests");
    const long = "word ".repeat(30);
    const title = conversationTitle(placeholder, long, NOW);
    expect(title.endsWith("…")).toBe(true);
    expect(title.length).toBeLessThanOrEqual(61);
    expect(title).not.toMatch(/\d{4}-\d\d-\d\dT/);
  });

  it("without a prompt: a new conversation and how long ago", () => {
    expect(conversationTitle(session("New session - 2026-12-02T11:55:00.000Z"), null, NOW)).toBe(
      "New conversation · 5 min ago",
    );
    expect(conversationTitle(session("", NOW + 2000), null, NOW)).toBe("New conversation · just now");
  });

  it("counts time in words", () => {
    expect(relativeTime(NOW - 30_000, NOW)).toBe("just now");
    expect(relativeTime(NOW - 3 * 3600_000, NOW)).toBe("3 h ago");
    expect(relativeTime(NOW - 26 * 3600_000, NOW)).toBe("yesterday");
    expect(relativeTime(NOW - 3 * 86400_000, NOW)).toBe("3 days ago");
  });

  it("takes the first prompt's own text, not what opencode added", () => {
    const user = (id: string, parts: Message["parts"]): Message => ({
      info: { id, sessionID: "s", role: "user", time: { created: 0 } },
      parts,
    });
    const text = (id: string, value: string, synthetic = false) => ({
      id,
      messageID: "m",
      sessionID: "s",
      type: "text" as const,
      text: value,
      synthetic,
    });
    expect(firstPrompt([])).toBeNull();
    expect(
      firstPrompt([
        user("msg_1", [text("a", "Called the Read tool", true)]),
        user("msg_2", [text("b", "look at @a.py"), text("c", "<content>", true)]),
      ]),
    ).toBe("look at @a.py");
  });
});
