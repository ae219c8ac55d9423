/** `@file` mentions in the prompt box: where one is being typed, and choosing a file. */

export interface MentionQuery {
  /** Index of the `@`. */
  start: number;
  /** What follows it, up to the caret. */
  query: string;
}

/** The mention being typed at `caret`: an `@` at the start or after white space. */
export function mentionAt(text: string, caret: number): MentionQuery | null {
  const match = /(^|\s)@([^\s@]*)$/.exec(text.slice(0, caret));
  if (!match) return null;
  const query = match[2] ?? "";
  return { start: caret - query.length - 1, query };
}

/** The text with the typed mention replaced by `@path ` and where the caret goes. */
export function insertMention(
  text: string,
  mention: MentionQuery,
  caret: number,
  path: string,
): { text: string; caret: number } {
  const inserted = `@${path} `;
  const rest = text.slice(caret).replace(/^ /, "");
  return {
    text: text.slice(0, mention.start) + inserted + rest,
    caret: mention.start + inserted.length,
  };
}
