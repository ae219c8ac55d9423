/**
 * File changes as the chat shows them, from what opencode 1.18 records:
 *
 * - the edit tool's `metadata.filediff` (`{file, patch, additions, deletions}`) or its
 *   `metadata.diff` (a unified diff);
 * - the write tool's input (`filePath`, `content`; `metadata.exists` says whether it
 *   replaced a file, whose earlier content opencode does not keep);
 * - a user message's `summary.diffs` (what `GET /session/{id}/diff?messageID=` also
 *   answers): the whole turn's changes per file, only where opencode can snapshot the
 *   workspace (a git repository).
 */
import type { ToolPart } from "./types";

export type DiffLineKind = "add" | "del" | "context" | "hunk";

export interface DiffLine {
  kind: DiffLineKind;
  /** Without the leading `+`/`-`/space. */
  text: string;
}

export interface FileDiff {
  /** As opencode names it: workspace-relative, or absolute for tool edits. */
  file: string;
  lines: DiffLine[];
  additions: number;
  deletions: number;
  /** The new content was written over a file whose earlier text is unknown. */
  replaced?: boolean;
}

const HUNK = /^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/;

/** Header lines of one file's diff, outside any hunk (git's, `diff -u`'s, jsdiff's). */
function isHeader(line: string): boolean {
  return /^(Index: |={5,}|--- |\+\+\+ |diff --git |new file mode|deleted file mode|index |similarity |rename |old mode|new mode|Binary files)/.test(
    line,
  );
}

function headerPath(line: string): string | null {
  const match = /^(?:\+\+\+|---) (?:[ab]\/)?(.+?)(?:\t.*)?$/.exec(line);
  const path = match?.[1]?.trim();
  return path && path !== "/dev/null" ? path : null;
}

/**
 * Every file of a unified diff. Hunk line counts decide where a hunk ends, so a removed
 * line that starts with `--` is not taken for the next file's header.
 */
export function parsePatch(patch: string, fallbackFile = ""): FileDiff[] {
  const files: FileDiff[] = [];
  let current: FileDiff | null = null;
  let oldLeft = 0;
  let newLeft = 0;
  const start = (): FileDiff => {
    const file: FileDiff = { file: fallbackFile, lines: [], additions: 0, deletions: 0 };
    files.push(file);
    return file;
  };
  for (const line of patch.split("\n")) {
    if (oldLeft > 0 || newLeft > 0) {
      const file: FileDiff = current ?? start();
      current = file;
      if (line.startsWith("\\")) continue; // "\ No newline at end of file"
      if (line.startsWith("+")) {
        file.lines.push({ kind: "add", text: line.slice(1) });
        file.additions += 1;
        newLeft -= 1;
      } else if (line.startsWith("-")) {
        file.lines.push({ kind: "del", text: line.slice(1) });
        file.deletions += 1;
        oldLeft -= 1;
      } else {
        file.lines.push({ kind: "context", text: line.slice(1) });
        oldLeft -= 1;
        newLeft -= 1;
      }
      continue;
    }
    const hunk = HUNK.exec(line);
    if (hunk) {
      current ??= start();
      current.lines.push({ kind: "hunk", text: line });
      oldLeft = hunk[1] === undefined ? 1 : Number(hunk[1]);
      newLeft = hunk[2] === undefined ? 1 : Number(hunk[2]);
      continue;
    }
    if (!isHeader(line)) continue;
    // A header after a file's hunks starts the next file.
    if (!current || current.lines.length > 0) current = start();
    const path = line.startsWith("+++ ") || line.startsWith("--- ") ? headerPath(line) : null;
    // `+++` names the new file; `---` only counts until then (and for deletions).
    if (path && (line.startsWith("+++ ") || current.file === fallbackFile)) current.file = path;
  }
  return files.filter((f) => f.lines.length > 0 || f.file);
}

/** A whole new text as a diff: every line added. */
export function addedFile(file: string, content: string, replaced: boolean): FileDiff {
  const lines = content.endsWith("\n") ? content.slice(0, -1).split("\n") : content.split("\n");
  const added = content === "" ? [] : lines;
  return {
    file,
    lines: added.map((text) => ({ kind: "add", text })),
    additions: added.length,
    deletions: 0,
    ...(replaced ? { replaced } : {}),
  };
}

const str = (value: unknown): string | null => (typeof value === "string" && value ? value : null);
const record = (value: unknown): Record<string, unknown> | null =>
  value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : null;

/** One `{file, patch}`-like record (edit's filediff, a turn summary's entry). */
export function fileDiffOf(entry: unknown): FileDiff | null {
  const item = record(entry);
  if (!item) return null;
  const file = str(item.file) ?? str(item.filePath) ?? str(item.path);
  const patch = str(item.patch) ?? str(item.diff);
  if (!file) return null;
  const parsed = patch ? parsePatch(patch, file) : [];
  const lines = parsed.flatMap((f) => f.lines);
  const count = (key: string, fallback: number): number =>
    typeof item[key] === "number" ? item[key] : fallback;
  return {
    file,
    lines,
    additions: count(
      "additions",
      parsed.reduce((n, f) => n + f.additions, 0),
    ),
    deletions: count(
      "deletions",
      parsed.reduce((n, f) => n + f.deletions, 0),
    ),
  };
}

const EDIT_TOOLS = new Set(["edit", "write", "patch", "multiedit", "apply_patch"]);

export const isEditTool = (tool: string): boolean => EDIT_TOOLS.has(tool);

function computeToolDiffs(part: ToolPart): FileDiff[] {
  const { input = {}, metadata = {} } = part.state;
  const filePath = str(input.filePath) ?? str(input.path) ?? str(metadata.filepath);
  const single = fileDiffOf(metadata.filediff);
  if (single) return [single];
  // apply_patch and the like: one entry per file.
  if (Array.isArray(metadata.files)) {
    const list = metadata.files.map(fileDiffOf).filter((f): f is FileDiff => f !== null);
    if (list.length > 0) return list;
  }
  const diff = str(metadata.diff);
  if (diff) return parsePatch(diff, filePath ?? "");
  if (part.tool === "write" && filePath && typeof input.content === "string") {
    return [addedFile(filePath, input.content, metadata.exists === true)];
  }
  return [];
}

// Parts are replaced, never mutated, on each update: a parse per part version is enough
// while the rest of the conversation re-renders per streamed token.
const toolCache = new WeakMap<ToolPart, FileDiff[]>();

/** The files a finished edit/write/patch tool call changed, with their diffs. */
export function toolFileDiffs(part: ToolPart): FileDiff[] {
  if (!isEditTool(part.tool) || part.state.status !== "completed") return [];
  let diffs = toolCache.get(part);
  if (!diffs) {
    diffs = computeToolDiffs(part);
    toolCache.set(part, diffs);
  }
  return diffs;
}

/** `path` relative to `root` when it lies beneath it. */
export function relativeTo(path: string, root: string | undefined): string {
  if (!root) return path;
  const prefix = root.endsWith("/") ? root : `${root}/`;
  return path.startsWith(prefix) ? path.slice(prefix.length) : path;
}
