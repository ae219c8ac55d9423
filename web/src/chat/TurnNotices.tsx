import { useEffect, useState } from "react";
import type { FileMention } from "./opencode";
import type { RetryInfo } from "./types";

/** What opencode says while the model does not answer: the reason, the attempt, and a
 * countdown to the next one. */
export function RetryNotice({ retry }: { retry: RetryInfo }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, []);
  const seconds = Math.max(0, Math.ceil((retry.next - now) / 1000));
  return (
    <div className="banner warning" role="status" aria-label="The model is not answering">
      <span>
        The model is not answering: {retry.message}. Attempt {retry.attempt} failed;{" "}
        {seconds > 0 ? `trying again in ${seconds} s.` : "trying again now."}
      </span>
    </div>
  );
}

export interface QueuedPrompt {
  id: number;
  conversation: string;
  text: string;
  /** Workspace files it mentions (`@path`), sent as file parts. */
  files?: FileMention[];
  /** Why sending it failed; it then waits to be sent again or taken back. */
  failed?: string;
}

/** Prompts waiting for the running turn to end; each can be taken back. */
export function QueuedPrompts({
  prompts,
  onCancel,
  onRetry,
}: {
  prompts: QueuedPrompt[];
  onCancel: (id: number) => void;
  onRetry: (id: number) => void;
}) {
  if (prompts.length === 0) return null;
  return (
    <ol className="queued" aria-label="Queued prompts">
      {prompts.map((prompt) => (
        <li key={prompt.id}>
          <span className="queued-label">
            {prompt.failed ? `Not sent (${prompt.failed}):` : "Queued, sent when the agent is free:"}
          </span>{" "}
          <span className="queued-text">{prompt.text}</span>
          {prompt.failed ? (
            <button
              type="button"
              onClick={() => onRetry(prompt.id)}
              aria-label={`Send again: ${prompt.text}`}
            >
              Send again
            </button>
          ) : null}
          <button
            type="button"
            onClick={() => onCancel(prompt.id)}
            aria-label={`Cancel queued prompt: ${prompt.text}`}
          >
            Cancel
          </button>
        </li>
      ))}
    </ol>
  );
}
