/**
 * A conversation as turns: one prompt and the agent's messages answering it (opencode
 * links each assistant message to its prompt by `parentID`), and what a turn changed.
 */
import { fileDiffOf, relativeTo, toolFileDiffs, type FileDiff } from "./diff";
import type { Message, MessageInfo } from "./types";

/** Fields of opencode's message info the turn view reads beyond types.ts. */
interface TurnInfo extends MessageInfo {
  parentID?: string;
  /** A prompt's turn, once it ended: per-file diffs (git workspaces only). */
  summary?: { diffs?: unknown[] };
  /** Where the agent ran (assistant messages): tool paths are absolute beneath it. */
  path?: { cwd?: string };
}

export interface Turn {
  /** Null for answers without their prompt (history that starts mid-turn). */
  prompt: Message | null;
  replies: Message[];
}

const infoOf = (message: Message): TurnInfo => message.info;

export function groupTurns(messages: Message[]): Turn[] {
  const turns: Turn[] = [];
  for (const message of messages) {
    const last = turns[turns.length - 1];
    if (message.info.role === "user") turns.push({ prompt: message, replies: [] });
    else if (last && (!infoOf(message).parentID || infoOf(message).parentID === last.prompt?.info.id)) {
      last.replies.push(message);
    } else turns.push({ prompt: null, replies: [message] });
  }
  return turns;
}

// The conversation re-renders per streamed token; a summary is parsed once.
const summaryCache = new WeakMap<unknown[], FileDiff[]>();

function merge(into: FileDiff, more: FileDiff): FileDiff {
  return {
    file: into.file,
    lines: [...into.lines, ...more.lines],
    additions: into.additions + more.additions,
    deletions: into.deletions + more.deletions,
    ...(into.replaced || more.replaced ? { replaced: true } : {}),
  };
}

/**
 * The files a turn changed. opencode's own summary of the turn when it has one (it
 * snapshots git workspaces); else the edits its tool calls made, in order, one entry per
 * file; plus files its patch parts name that no tool call showed (e.g. changed by bash).
 */
export function turnChanges(turn: Turn): FileDiff[] {
  const summary = turn.prompt ? infoOf(turn.prompt).summary?.diffs : undefined;
  if (Array.isArray(summary) && summary.length > 0) {
    let parsed = summaryCache.get(summary);
    if (!parsed) {
      parsed = summary.map(fileDiffOf).filter((f): f is FileDiff => f !== null);
      summaryCache.set(summary, parsed);
    }
    return parsed;
  }
  const byFile = new Map<string, FileDiff>();
  for (const reply of turn.replies) {
    const cwd = infoOf(reply).path?.cwd;
    for (const part of reply.parts) {
      if (part.type === "tool") {
        for (const diff of toolFileDiffs(part)) {
          const file = relativeTo(diff.file, cwd);
          const known = byFile.get(file);
          byFile.set(file, known ? merge(known, diff) : { ...diff, file });
        }
      } else if (part.type === "patch") {
        for (const path of part.files) {
          const file = relativeTo(path, cwd);
          if (!byFile.has(file)) byFile.set(file, { file, lines: [], additions: 0, deletions: 0 });
        }
      }
    }
  }
  return [...byFile.values()];
}
