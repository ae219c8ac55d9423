/**
 * CodeMirror language support for the names `languageFor` (lib/paths.ts) gives a file.
 * Each is its own lazily loaded chunk: opening a Python file never downloads the Rust
 * grammar. Languages without a Lezer grammar use CodeMirror's ports of the legacy modes.
 */
import { StreamLanguage, type LanguageSupport, type StreamParser } from "@codemirror/language";

type Support = LanguageSupport | StreamLanguage<unknown>;

// @codemirror/language itself is in the editor's chunk already.
const legacy = (parser: Promise<StreamParser<unknown>>): Promise<Support> =>
  parser.then((mode) => StreamLanguage.define(mode));

const LOADERS: Record<string, () => Promise<Support>> = {
  javascript: () => import("@codemirror/lang-javascript").then((m) => m.javascript({ jsx: true })),
  typescript: () =>
    import("@codemirror/lang-javascript").then((m) => m.javascript({ jsx: true, typescript: true })),
  python: () => import("@codemirror/lang-python").then((m) => m.python()),
  json: () => import("@codemirror/lang-json").then((m) => m.json()),
  markdown: () => import("@codemirror/lang-markdown").then((m) => m.markdown()),
  xml: () => import("@codemirror/lang-html").then((m) => m.html()),
  css: () => import("@codemirror/lang-css").then((m) => m.css()),
  scss: () => import("@codemirror/lang-css").then((m) => m.css()),
  yaml: () => import("@codemirror/lang-yaml").then((m) => m.yaml()),
  rust: () => import("@codemirror/lang-rust").then((m) => m.rust()),
  go: () => import("@codemirror/lang-go").then((m) => m.go()),
  bash: () => legacy(import("@codemirror/legacy-modes/mode/shell").then((m) => m.shell)),
  ini: () => legacy(import("@codemirror/legacy-modes/mode/toml").then((m) => m.toml)),
  dockerfile: () => legacy(import("@codemirror/legacy-modes/mode/dockerfile").then((m) => m.dockerFile)),
  diff: () => legacy(import("@codemirror/legacy-modes/mode/diff").then((m) => m.diff)),
  c: () => legacy(import("@codemirror/legacy-modes/mode/clike").then((m) => m.c)),
  cpp: () => legacy(import("@codemirror/legacy-modes/mode/clike").then((m) => m.cpp)),
  java: () => legacy(import("@codemirror/legacy-modes/mode/clike").then((m) => m.java)),
  kotlin: () => legacy(import("@codemirror/legacy-modes/mode/clike").then((m) => m.kotlin)),
  ruby: () => legacy(import("@codemirror/legacy-modes/mode/ruby").then((m) => m.ruby)),
  lua: () => legacy(import("@codemirror/legacy-modes/mode/lua").then((m) => m.lua)),
  swift: () => legacy(import("@codemirror/legacy-modes/mode/swift").then((m) => m.swift)),
  sql: () => legacy(import("@codemirror/legacy-modes/mode/sql").then((m) => m.standardSQL)),
};

/** The language support for a `languageFor` name, or null for plain text. */
export function loadLanguage(language: string | null): Promise<Support> | null {
  const load = language ? LOADERS[language] : undefined;
  return load ? load() : null;
}
