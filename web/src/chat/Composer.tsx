import { useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent, type SubmitEvent } from "react";
import { Field } from "../components/Field";
import { MENTION_LIST_ID, MentionChips, MentionPicker, mentionOptionId } from "./FileMention";
import { insertMention, mentionAt, type MentionQuery } from "./mentions";
import type { FileMention, ModelChoice } from "./opencode";
import type { ModelRef } from "./types";

const modelKey = (m: ModelRef): string => `${m.providerID}/${m.modelID}`;

interface ComposerProps {
  busy: boolean;
  onSend: (text: string, files: FileMention[]) => Promise<boolean>;
  onStop: () => void;
  models: ModelChoice[];
  model: ModelRef | null;
  onModel: (model: ModelRef) => void;
  /** Workspace files matching a query, for `@` mentions. */
  findFiles: (query: string) => Promise<string[]>;
}

/** The prompt box (with `@` file mentions), the model picker, and Send / Stop. */
export function Composer({ busy, onSend, onStop, models, model, onModel, findFiles }: ComposerProps) {
  const [text, setText] = useState("");
  const [sending, setSending] = useState(false);
  const [files, setFiles] = useState<FileMention[]>([]);
  const [mention, setMention] = useState<MentionQuery | null>(null);
  const [found, setFound] = useState<{ query: string; files: string[] } | null>(null);
  const [active, setActive] = useState(0);
  const box = useRef<HTMLTextAreaElement>(null);
  const caretAfter = useRef<number | null>(null);

  // Ask opencode for matches a moment after typing stops; only the newest answer counts.
  const query = mention?.query ?? null;
  useEffect(() => {
    if (query === null) return;
    let current = true;
    const timer = window.setTimeout(() => {
      findFiles(query).then(
        (list) => {
          if (current) setFound({ query, files: list });
        },
        () => {
          if (current) setFound({ query, files: [] });
        },
      );
    }, 120);
    return () => {
      current = false;
      window.clearTimeout(timer);
    };
  }, [query, findFiles]);

  useLayoutEffect(() => {
    const caret = caretAfter.current;
    if (caret === null || !box.current) return;
    caretAfter.current = null;
    box.current.setSelectionRange(caret, caret);
  }, [text]);

  const matches = found && found.query === query ? found.files : [];
  const picking = mention !== null;

  const choose = (path: string): void => {
    if (!mention) return;
    const caret = box.current?.selectionStart ?? text.length;
    const next = insertMention(text, mention, caret, path);
    caretAfter.current = next.caret;
    setText(next.text);
    setFiles((list) => (list.some((f) => f.path === path) ? list : [...list, { path }]));
    setMention(null);
  };

  const submit = async (event?: SubmitEvent): Promise<void> => {
    event?.preventDefault();
    const prompt = text.trim();
    if (!prompt || sending) return;
    setSending(true);
    setMention(null);
    // The text stays when sending failed, so nothing typed is lost.
    if (await onSend(prompt, files)) {
      setText("");
      setFiles([]);
    }
    setSending(false);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>): void => {
    if (event.nativeEvent.isComposing) return;
    if (picking) {
      if (event.key === "Escape") {
        event.preventDefault();
        setMention(null);
        return;
      }
      if (matches.length > 0) {
        if (event.key === "ArrowDown" || event.key === "ArrowUp") {
          event.preventDefault();
          const step = event.key === "ArrowDown" ? 1 : -1;
          setActive((i) => (i + step + matches.length) % matches.length);
          return;
        }
        if (event.key === "Enter" || event.key === "Tab") {
          event.preventDefault();
          choose(matches[Math.min(active, matches.length - 1)] ?? matches[0] ?? "");
          return;
        }
      }
    }
    // Enter sends; Shift+Enter is a new line.
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      void submit();
    }
  };

  return (
    <form className="composer" onSubmit={(e) => void submit(e)} aria-label="Send a message">
      <MentionChips
        files={files}
        onRemove={(path) => setFiles((list) => list.filter((f) => f.path !== path))}
      />
      <div className="composer-input-wrap">
        {picking ? (
          <MentionPicker files={matches} active={active} loading={found?.query !== query} onChoose={choose} />
        ) : null}
        <Field label="Message" hideLabel className="composer-input">
          <textarea
            ref={box}
            rows={3}
            placeholder="Ask the agent… (@ to mention a file, Enter to send, Shift+Enter for a new line)"
            value={text}
            aria-autocomplete="list"
            aria-controls={picking ? MENTION_LIST_ID : undefined}
            aria-activedescendant={picking && matches.length > 0 ? mentionOptionId(active) : undefined}
            onChange={(e) => {
              setText(e.target.value);
              const next = mentionAt(e.target.value, e.target.selectionStart);
              if (next?.start !== mention?.start) setActive(0);
              setMention(next);
            }}
            onBlur={() => setMention(null)}
            onKeyDown={onKeyDown}
          />
        </Field>
      </div>
      <div className="composer-bar">
        <Field label="Model" className="inline">
          <select
            value={model ? modelKey(model) : ""}
            onChange={(e) => {
              const found = models.find((m) => modelKey(m) === e.target.value);
              if (found) onModel({ providerID: found.providerID, modelID: found.modelID });
            }}
          >
            {models.length === 0 ? <option value="">Default</option> : null}
            {models.map((m) => (
              <option key={modelKey(m)} value={modelKey(m)}>
                {m.label}
              </option>
            ))}
          </select>
        </Field>
        {busy ? (
          <button type="button" className="danger" onClick={onStop} aria-label="Stop the agent">
            Stop
          </button>
        ) : null}
        <button type="submit" className="primary" disabled={sending || !text.trim()}>
          Send
        </button>
      </div>
    </form>
  );
}
