import { useEffect, useState } from "react";
import {
  ConflictError,
  downloadUrl,
  previewUrl,
  readFile,
  writeFile,
  type Entry,
  type FileContent,
} from "../api/files";
import { errorMessage } from "../api/http";
import { ErrorText } from "../components/bits";
import { Field } from "../components/Field";
import { formatBytes } from "../lib/format";
import { isPreviewableImage, languageFor } from "../lib/paths";
import { Markdown } from "../chat/Markdown";

const MAX_PREVIEW_BYTES = 2 * 1024 * 1024;

interface ViewerProps {
  sessionId: string;
  entry: Entry;
  onSaved: (entry: Entry) => void;
  /** Bumped each time the file is reported changed on disk (by the agent, say). */
  changedOnDisk: number;
}

/** Preview (highlighted text with line numbers, rendered Markdown, or an image) and
 * editing with a conflict check on save; a change on disk reloads the preview, or warns
 * while editing. */
export function FileViewer({ sessionId, entry, onSaved, changedOnDisk }: ViewerProps) {
  const [content, setContent] = useState<FileContent | null>(null);
  const [draft, setDraft] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [conflict, setConflict] = useState(false);
  const [saving, setSaving] = useState(false);
  const [savedNote, setSavedNote] = useState<string | null>(null);
  const [reloadCount, setReloadCount] = useState(0);
  const [source, setSource] = useState(false); // Markdown: the text instead of its rendering
  const markdown = languageFor(entry.path) === "markdown";
  // A change on disk: reloaded at once when nothing is being edited; while editing, the
  // person decides (their draft is never thrown away unasked).
  const [seenChange, setSeenChange] = useState(changedOnDisk);
  const changedWhileEditing = changedOnDisk !== seenChange && draft !== null;
  if (changedOnDisk !== seenChange && draft === null) {
    setSeenChange(changedOnDisk);
    setReloadCount((n) => n + 1);
  }
  const image = isPreviewableImage(entry.path);
  const tooBig = entry.size > MAX_PREVIEW_BYTES;

  useEffect(() => {
    if (image || tooBig) return;
    let current = true;
    readFile(sessionId, entry.path).then(
      (loaded) => current && setContent(loaded),
      (e: unknown) => current && setError(errorMessage(e)),
    );
    return () => {
      current = false;
    };
  }, [sessionId, entry.path, image, tooBig, reloadCount]);

  const save = async (force: boolean): Promise<void> => {
    if (draft === null || !content) return;
    setSaving(true);
    setError(null);
    try {
      const saved = await writeFile(sessionId, entry.path, draft, force ? null : content.etag);
      setContent({ ...content, text: draft, etag: saved.etag ?? null });
      setDraft(null);
      setConflict(false);
      setSavedNote(`Saved ${entry.name}`);
      onSaved(saved);
    } catch (e) {
      if (e instanceof ConflictError) setConflict(true);
      else setError(errorMessage(e));
    } finally {
      setSaving(false);
    }
  };

  const reload = (): void => {
    setContent(null);
    setError(null);
    setDraft(null);
    setConflict(false);
    setSeenChange(changedOnDisk);
    setReloadCount((n) => n + 1);
  };

  const header = (
    <div className="viewer-head">
      <h3 className="viewer-title">{entry.path}</h3>
      <span className="muted">{formatBytes(entry.size)}</span>
      <span className="visually-hidden" role="status">
        {savedNote ?? ""}
      </span>
    </div>
  );

  if (image) {
    return (
      <div className="viewer">
        {header}
        <img
          className="image-preview"
          src={`${previewUrl(sessionId, entry.path)}&v=${entry.etag ?? entry.mtime}`}
          alt={`Preview of ${entry.name}`}
        />
      </div>
    );
  }
  if (tooBig || (content && content.text === null)) {
    return (
      <div className="viewer">
        {header}
        <p>{tooBig ? "This file is too large to preview." : "This is not a text file."}</p>
        <a className="button" href={downloadUrl(sessionId, entry.path)} download={entry.name}>
          Download {entry.name}
        </a>
      </div>
    );
  }

  return (
    <div className="viewer">
      {header}
      <ErrorText error={error} />
      {conflict ? (
        <div className="banner warning" role="alert">
          <span>
            {entry.name} changed on disk since you opened it. Saving now would overwrite those changes.
          </span>
          <div className="actions">
            <button type="button" className="danger" onClick={() => void save(true)}>
              Overwrite
            </button>
            <button type="button" onClick={reload}>
              Discard my edits and reload
            </button>
          </div>
        </div>
      ) : null}
      {changedWhileEditing && !conflict ? (
        <div className="banner warning" role="alert">
          <span>{entry.name} was changed on disk (by the agent?) while you edit it.</span>
          <div className="actions">
            <button type="button" onClick={reload}>
              Discard my edits and reload
            </button>
            <button type="button" onClick={() => setSeenChange(changedOnDisk)}>
              Keep editing
            </button>
          </div>
        </div>
      ) : null}
      {content === null && !error ? <p role="status">Loading…</p> : null}
      {content?.text != null ? (
        draft === null ? (
          <>
            <div className="actions">
              <button
                type="button"
                onClick={() => {
                  setSavedNote(null);
                  setDraft(content.text ?? "");
                }}
              >
                Edit
              </button>
              {markdown ? (
                <button type="button" aria-pressed={!source} onClick={() => setSource((v) => !v)}>
                  {source ? "Show preview" : "Show source"}
                </button>
              ) : null}
            </div>
            {markdown && !source ? (
              <div className="markdown-preview" aria-label="Preview" role="document">
                <Markdown text={content.text} streaming={false} />
              </div>
            ) : (
              <CodeView text={content.text} language={languageFor(entry.path)} />
            )}
          </>
        ) : (
          <>
            <div className="actions">
              <button type="button" className="primary" disabled={saving} onClick={() => void save(false)}>
                Save
              </button>
              <button type="button" onClick={() => setDraft(null)}>
                Cancel
              </button>
            </div>
            <Field label={`Contents of ${entry.name}`} hideLabel className="editor">
              <textarea
                spellCheck={false}
                value={draft}
                onChange={(e) => setDraft(e.target.value)}
                onKeyDown={(e) => {
                  if ((e.ctrlKey || e.metaKey) && e.key === "s") {
                    e.preventDefault();
                    void save(false);
                  }
                }}
              />
            </Field>
          </>
        )
      ) : null}
    </div>
  );
}

/** Text with highlighting, which arrives (lazily loaded) after the plain text. */
function CodeView({ text, language }: { text: string; language: string | null }) {
  const [highlighted, setHighlighted] = useState<{ text: string; html: string | null } | null>(null);
  useEffect(() => {
    if (!language || text.length > 200_000) return;
    let current = true;
    void import("../chat/highlight").then(({ highlightText }) => {
      if (current) setHighlighted({ text, html: highlightText(text, language) });
    });
    return () => {
      current = false;
    };
  }, [text, language]);
  // Highlighting of an older text (before an edit was saved) is never shown.
  const html = highlighted?.text === text ? highlighted.html : null;
  const lines = text.endsWith("\n") ? text.split("\n").length - 1 : text.split("\n").length;
  return (
    <div className="code-frame">
      <pre className="line-numbers" aria-hidden="true">
        {Array.from({ length: Math.max(1, lines) }, (_, i) => `${i + 1}\n`).join("")}
      </pre>
      <pre className="code-view" tabIndex={0} aria-label="File contents">
        {html !== null ? (
          // highlight.js output: the file's text, escaped, wrapped in spans.
          <code className="hljs" dangerouslySetInnerHTML={{ __html: html }} />
        ) : (
          <code>{text}</code>
        )}
      </pre>
    </div>
  );
}
