import { readStored, writeStored } from "../lib/stored";

/**
 * Which terminals a session has open in this browser, and which one is shown. Each name
 * is a tmux session of its own on the server (oqto.protocol.terminals: 1-99, at most 8),
 * so a reload reattaches the same shells.
 */
export const MAX_TERMINALS = 8;
const NAME = /^[1-9][0-9]?$/;

export interface TerminalTabs {
  names: string[];
  active: string | null;
}

const FIRST: TerminalTabs = { names: ["1"], active: "1" };

const key = (sessionId: string): string => `oqto-terminals:${sessionId}`;

function parse(value: unknown): TerminalTabs | null {
  if (typeof value !== "object" || value === null) return null;
  const { names, active } = value as Record<string, unknown>;
  if (!Array.isArray(names)) return null;
  const valid = [...new Set(names.filter((n): n is string => typeof n === "string" && NAME.test(n)))];
  const kept = valid.slice(0, MAX_TERMINALS);
  return {
    names: kept,
    active: typeof active === "string" && kept.includes(active) ? active : (kept[0] ?? null),
  };
}

export function loadTabs(sessionId: string): TerminalTabs {
  return readStored(key(sessionId), parse) ?? FIRST;
}

export function saveTabs(sessionId: string, tabs: TerminalTabs): void {
  writeStored(key(sessionId), tabs);
}

/** The lowest number not in use, so names stay short: "1", "2", ... */
export function nextName(names: readonly string[]): string {
  let n = 1;
  while (names.includes(String(n))) n++;
  return String(n);
}
