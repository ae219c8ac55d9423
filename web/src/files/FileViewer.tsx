import { lazy, Suspense, useEffect, useState } from "react";
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
import { formatBytes } from "../lib/format";
import { isPreviewableImage, languageFor } from "../lib/paths";
import { Markdown } from "../chat/Markdown";

// CodeMirror and its grammars: a chunk of their own, fetched when a file is first opened.
const CodeEditor = lazy(() => import("./CodeEditor"));

const MAX_PREVIEW_BYTES = 2 * 1024 * 1024;
// Longer texts are shown read-only and without highlighting (the limit the viewer has
// always highlighted up to).
const MAX_EDIT_CHARS = 200_000;

interface ViewerProps {
  sessionId: string;
  entry: Entry;
  onSaved: (entry: Entry) => void;
  /** Bumped each time the file is reported changed on disk (by the agent, say). */
  changedOnDisk: number;
}

/** A text file in the editor (rendered Markdown on request), or an image, with a
 * conflict check on save; a change on disk reloads the file, or warns while there are
 * unsaved changes. */
export function FileViewer({ sessionId, entry, onSaved, changedOnDisk }: ViewerProps) {
  const [content, setContent] = useState<FileContent | null>(null);
  // The editor's text while it differs from the file's; null: nothing unsaved.
  const [draft, setDraft] = useState<string | null>(null);
  // Bumped when the editor must take the text again (loaded from disk, or reverted).
  const [revision, setRevision] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [conflict, setConflict] = useState(false);
  const [saving, setSaving] = useState(false);
  const [savedNote, setSavedNote] = useState<string | null>(null);
  const [reloadCount, setReloadCount] = useState(0);
  const markdown = languageFor(entry.path) === "markdown";
  // Markdown opens rendered, unless it is empty (a new file, to be written).
  const [source, setSource] = useState(entry.size === 0);
  // A change on disk: reloaded at once when nothing is unsaved; otherwise the person
  // decides (their edits are never thrown away unasked).
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
      (loaded) => {
        if (!current) return;
        setContent(loaded);
        setRevision((n) => n + 1);
      },
      (e: unknown) => current && setError(errorMessage(e)),
    );
    return () => {
      current = false;
    };
  }, [sessionId, entry.path, image, tooBig, reloadCount]);

  const save = async (force: boolean): Promise<void> => {
    const text = draft;
    if (text === null || !content || saving) return;
    setSaving(true);
    setError(null);
    try {
      const saved = await writeFile(sessionId, entry.path, text, force ? null : content.etag);
      setContent({ ...content, text, etag: saved.etag ?? null });
      // Typing went on while saving: that much is still unsaved.
      setDraft((now) => (now === text ? null : now));
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

  const edited = (text: string): void => {
    setDraft(text === content?.text ? null : text);
    setSavedNote(null);
  };

  const revert = (): void => {
    setDraft(null);
    setConflict(false);
    setRevision((n) => n + 1);
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
      {draft !== null ? <span className="dirty-marker">● Unsaved changes</span> : null}
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

  const text = content?.text ?? null;
  const readOnly = text !== null && text.length > MAX_EDIT_CHARS;
  const preview = markdown && !source;
  return (
    <div className={text !== null && !preview ? "viewer with-editor" : "viewer"}>
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
      {text !== null ? (
        <>
          <div className="actions">
            <button
              type="button"
              className="primary"
              disabled={draft === null || saving}
              aria-keyshortcuts="Control+S Meta+S"
              onClick={() => void save(false)}
            >
              Save
            </button>
            {draft !== null ? (
              <button type="button" onClick={revert}>
                Revert
              </button>
            ) : null}
            {markdown ? (
              <button type="button" aria-pressed={!source} onClick={() => setSource((v) => !v)}>
                {source ? "Show preview" : "Show source"}
              </button>
            ) : null}
          </div>
          {readOnly ? (
            <p className="muted">
              Read only: files over {MAX_EDIT_CHARS.toLocaleString("en")} characters are not edited here.
            </p>
          ) : null}
          {preview ? (
            <div className="markdown-preview" aria-label="Preview" role="document">
              <Markdown text={draft ?? text} streaming={false} />
            </div>
          ) : (
            <Suspense fallback={<p role="status">Loading the editor…</p>}>
              <CodeEditor
                doc={draft ?? text}
                revision={revision}
                language={readOnly ? null : languageFor(entry.path)}
                label={`Contents of ${entry.name}`}
                readOnly={readOnly}
                onChange={edited}
                onSave={() => void save(false)}
              />
            </Suspense>
          )}
        </>
      ) : null}
    </div>
  );
}
