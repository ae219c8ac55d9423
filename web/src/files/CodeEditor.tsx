/**
 * CodeMirror 6 for one file: line numbers, highlighting by file name, search (Mod-F),
 * undo/redo, Mod-S to save. Loaded lazily (FileViewer imports it with import()), so the
 * editor and its grammars stay out of the initial bundle.
 *
 * Colours come from the app's CSS variables (editor.css): they follow the light/dark
 * theme by themselves, with no editor reconfiguration.
 */
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { bracketMatching, indentOnInput, syntaxHighlighting } from "@codemirror/language";
import { highlightSelectionMatches, search, searchKeymap } from "@codemirror/search";
import { Annotation, Compartment, EditorState, Transaction } from "@codemirror/state";
import {
  drawSelection,
  EditorView,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  keymap,
  lineNumbers,
} from "@codemirror/view";
import { classHighlighter } from "@lezer/highlight";
import { useEffect, useLayoutEffect, useRef } from "react";
import { installStyleNonce } from "../terminal/styleNonce";
import { loadLanguage } from "./editorLanguages";
import "./editor.css";

export interface CodeEditorProps {
  /** The text to show; taken when mounting and whenever `revision` changes. */
  doc: string;
  /** Bumped by the owner when `doc` comes from disk again (a reload, a revert). */
  revision: number;
  /** A `languageFor` name, or null for plain text. */
  language: string | null;
  /** The accessible name of the text area. */
  label: string;
  readOnly: boolean;
  /** After every change the person makes (not after `doc` replaces the text). */
  onChange: (text: string) => void;
  onSave: () => void;
}

// Marks the replacements that come from `doc`, so they are not reported as edits.
const fromOwner = Annotation.define<boolean>();

export default function CodeEditor({
  doc,
  revision,
  language,
  label,
  readOnly,
  onChange,
  onSave,
}: CodeEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const latest = useRef({ doc, onChange, onSave });
  const slots = useRef({ language: new Compartment(), access: new Compartment() });

  // Before the effects below read them.
  useLayoutEffect(() => {
    latest.current = { doc, onChange, onSave };
  });

  useEffect(() => {
    const parent = host.current;
    if (!parent) return;
    installStyleNonce(); // CodeMirror's <style> elements, under the page's CSP
    const editor = new EditorView({
      parent,
      state: EditorState.create({
        doc: latest.current.doc,
        extensions: [
          lineNumbers(),
          highlightActiveLineGutter(),
          highlightSpecialChars(),
          history(),
          drawSelection(),
          indentOnInput(),
          bracketMatching(),
          highlightActiveLine(),
          highlightSelectionMatches(),
          search({ top: true }),
          syntaxHighlighting(classHighlighter),
          slots.current.language.of([]),
          slots.current.access.of([]),
          keymap.of([
            {
              key: "Mod-s",
              preventDefault: true,
              run: () => {
                latest.current.onSave();
                return true;
              },
            },
            ...searchKeymap,
            ...historyKeymap,
            ...defaultKeymap,
            indentWithTab, // Escape, then Tab, still leaves the editor
          ]),
          EditorView.updateListener.of((update) => {
            if (!update.docChanged) return;
            if (update.transactions.some((tr) => tr.annotation(fromOwner))) return;
            latest.current.onChange(update.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = editor;
    return () => {
      editor.destroy();
      view.current = null;
    };
  }, []);

  // A new text from disk: replace only what differs, so the cursor and the scroll
  // position stay where they were (the agent rewriting a file the person is reading).
  // A layout effect: no keystroke can land between the render and the replacement.
  useLayoutEffect(() => {
    const editor = view.current;
    if (!editor) return;
    const next = latest.current.doc;
    const current = editor.state.doc.toString();
    if (current === next) return;
    let from = 0;
    while (from < current.length && from < next.length && current[from] === next[from]) from++;
    let end = 0;
    while (
      end < current.length - from &&
      end < next.length - from &&
      current[current.length - 1 - end] === next[next.length - 1 - end]
    ) {
      end++;
    }
    editor.dispatch({
      changes: { from, to: current.length - end, insert: next.slice(from, next.length - end) },
      annotations: [fromOwner.of(true), Transaction.addToHistory.of(false)],
    });
  }, [revision]);

  useEffect(() => {
    view.current?.dispatch({
      effects: slots.current.access.reconfigure([
        EditorState.readOnly.of(readOnly),
        EditorView.contentAttributes.of({ "aria-label": label }),
      ]),
    });
  }, [readOnly, label]);

  useEffect(() => {
    const loading = loadLanguage(language);
    let current = true;
    void loading?.then((support) => {
      if (current) view.current?.dispatch({ effects: slots.current.language.reconfigure(support) });
    });
    return () => {
      current = false;
    };
  }, [language]);

  return <div className="code-editor" ref={host} />;
}
