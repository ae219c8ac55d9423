import { useState } from "react";
import type { SessionStatus } from "../api/types";

const STATUS_LABEL: Record<SessionStatus, string> = {
  starting: "Starting",
  running: "Running",
  stopping: "Stopping",
  stopped: "Stopped",
  failed: "Failed",
};

export function StatusBadge({ status }: { status: SessionStatus }) {
  return (
    <span className={`badge status-${status}`} data-status={status}>
      {STATUS_LABEL[status]}
    </span>
  );
}

export function ErrorText({ error }: { error: string | null | undefined }) {
  if (!error) return null;
  return (
    <p className="form-error" role="alert">
      {error}
    </p>
  );
}

/** Copies `text`; says so, for sighted and screen-reader users alike. */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  const copy = (): void => {
    navigator.clipboard.writeText(text).then(
      () => setState("copied"),
      () => setState("failed"),
    );
  };
  return (
    <>
      <button type="button" onClick={copy} aria-label={label}>
        {state === "copied" ? "Copied" : "Copy"}
      </button>
      <span className="visually-hidden" role="status">
        {state === "copied" ? "Copied to the clipboard" : state === "failed" ? "Copying failed" : ""}
      </span>
    </>
  );
}

/** A one-time secret (API token, invite code): shown once, with a copy button. */
export function SecretOnce({ title, secret, onDone }: { title: string; secret: string; onDone: () => void }) {
  return (
    <div className="secret-once" role="region" aria-label={title}>
      <p>
        <strong>{title}</strong> — copy it now; it is not shown again.
      </p>
      <div className="secret-row">
        <code data-testid="secret-value">{secret}</code>
        <CopyButton text={secret} label={`Copy ${title.toLowerCase()}`} />
        <button type="button" onClick={onDone}>
          Done
        </button>
      </div>
    </div>
  );
}
