/**
 * What a conversation is called in the list. opencode names a new session
 * "New session - <ISO time>" (a child "Child session - ...") until its title request to
 * the model comes back; that placeholder is shown as the first prompt, else as
 * "New conversation" and how long ago it started.
 */
import type { Message, OcSession } from "./types";

const PLACEHOLDER = /^(New|Child) session - \d{4}-\d\d-\d\dT[\d:.]+Z?$/;

export const isPlaceholderTitle = (title: string): boolean => PLACEHOLDER.test(title.trim());

const MAX_TITLE = 60;

function shorten(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  if (line.length <= MAX_TITLE) return line;
  const cut = line.slice(0, MAX_TITLE);
  const space = cut.lastIndexOf(" ");
  return `${(space > MAX_TITLE / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/** "just now", "5 min ago", "3 h ago", "2 days ago", else the date. */
export function relativeTime(ms: number, now: number): string {
  const minutes = Math.floor((now - ms) / 60_000);
  if (minutes < 1) return "just now";
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.floor(hours / 24);
  if (days < 7) return days === 1 ? "yesterday" : `${days} days ago`;
  return new Date(ms).toLocaleDateString(undefined, { dateStyle: "medium" });
}

/** The text of a conversation's first prompt, if its messages are at hand. */
export function firstPrompt(messages: Message[]): string | null {
  for (const message of messages) {
    if (message.info.role !== "user") continue;
    const text = message.parts
      .map((p) => (p.type === "text" && !p.synthetic ? p.text : ""))
      .join(" ")
      .trim();
    if (text) return text;
  }
  return null;
}

export function conversationTitle(session: OcSession, prompt: string | null, now: number): string {
  const title = session.title.trim();
  if (title && !isPlaceholderTitle(title)) return title;
  if (prompt?.trim()) return shorten(prompt);
  return `New conversation · ${relativeTime(session.time.created, now)}`;
}
