import { useState, type KeyboardEvent, type SubmitEvent } from "react";
import { Field } from "../components/Field";
import type { ModelChoice } from "./opencode";
import type { ModelRef } from "./types";

const modelKey = (m: ModelRef): string => `${m.providerID}/${m.modelID}`;

interface ComposerProps {
  busy: boolean;
  onSend: (text: string) => Promise<boolean>;
  onStop: () => void;
  models: ModelChoice[];
  model: ModelRef | null;
  onModel: (model: ModelRef) => void;
}

/** The prompt box, the model picker, and Send / Stop. */
export function Composer({ busy, onSend, onStop, models, model, onModel }: ComposerProps) {
  const [text, setText] = useState("");
  const [sending, setSending] = useState(false);

  const submit = async (event?: SubmitEvent): Promise<void> => {
    event?.preventDefault();
    const prompt = text.trim();
    if (!prompt || sending) return;
    setSending(true);
    // The text stays when sending failed, so nothing typed is lost.
    if (await onSend(prompt)) setText("");
    setSending(false);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>): void => {
    // Enter sends; Shift+Enter is a new line (IME composition is left alone).
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void submit();
    }
  };

  return (
    <form className="composer" onSubmit={(e) => void submit(e)} aria-label="Send a message">
      <Field label="Message" hideLabel className="composer-input">
        <textarea
          rows={3}
          placeholder="Ask the agent… (Enter to send, Shift+Enter for a new line)"
          value={text}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={onKeyDown}
        />
      </Field>
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
