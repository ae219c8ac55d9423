import { useState } from "react";
import { errorMessage } from "../api/http";
import { ErrorText } from "../components/bits";
import type { PermissionReply, PermissionRequest } from "./types";

/** opencode asks before some actions (per its permission config); the person decides. */
export function PermissionPrompt({
  request,
  onReply,
}: {
  request: PermissionRequest;
  onReply: (reply: PermissionReply) => Promise<void>;
}) {
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const reply = (answer: PermissionReply): void => {
    setSending(true);
    setError(null);
    // On success the prompt goes away; on failure it stays, to be tried again.
    onReply(answer).then(
      () => setSending(false),
      (e: unknown) => {
        setSending(false);
        setError(errorMessage(e));
      },
    );
  };
  return (
    <div className="permission card" role="alertdialog" aria-label="Permission request">
      <p>
        The agent asks for <strong>{request.permission}</strong>
        {request.patterns.length ? `: ${request.patterns.join(", ")}` : ""}
      </p>
      <ErrorText error={error} />
      <div className="actions">
        <button type="button" className="primary" disabled={sending} onClick={() => reply("once")}>
          Allow once
        </button>
        <button type="button" disabled={sending} onClick={() => reply("always")}>
          Always allow
        </button>
        <button type="button" className="danger" disabled={sending} onClick={() => reply("reject")}>
          Reject
        </button>
      </div>
    </div>
  );
}
