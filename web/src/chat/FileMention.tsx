import type { FileMention } from "./opencode";
import "./chat-turns.css";

export const MENTION_LIST_ID = "mention-picker";
export const mentionOptionId = (index: number): string => `mention-option-${index}`;

/** The workspace files matching the `@` being typed; the composer drives it. */
export function MentionPicker({
  files,
  active,
  loading,
  onChoose,
}: {
  files: string[];
  active: number;
  loading: boolean;
  onChoose: (path: string) => void;
}) {
  return (
    <ul className="mention-picker" id={MENTION_LIST_ID} role="listbox" aria-label="Workspace files">
      {files.length === 0 ? (
        <li className="mention-empty" role="option" aria-selected={false} aria-disabled="true">
          {loading ? "Searching…" : "No matching files"}
        </li>
      ) : null}
      {files.map((path, index) => (
        <li
          key={path}
          id={mentionOptionId(index)}
          role="option"
          aria-selected={index === active}
          // Keep the focus in the prompt box.
          onMouseDown={(event) => event.preventDefault()}
          onClick={() => onChoose(path)}
        >
          {path}
        </li>
      ))}
    </ul>
  );
}

/** The files the prompt will carry, each removable. */
export function MentionChips({
  files,
  onRemove,
}: {
  files: FileMention[];
  onRemove: (path: string) => void;
}) {
  if (files.length === 0) return null;
  return (
    <ul className="file-chips" aria-label="Files to attach">
      {files.map((file) => (
        <li key={file.path} className="file-chip">
          {file.path}
          <button type="button" aria-label={`Remove ${file.path}`} onClick={() => onRemove(file.path)}>
            ×
          </button>
        </li>
      ))}
    </ul>
  );
}
