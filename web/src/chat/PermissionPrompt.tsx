import type { PermissionRequest } from "./types";

export type PermissionReply = "once" | "always" | "reject";

/** opencode asks before some actions (per its permission config); the person decides. */
export function PermissionPrompt({
  request,
  onReply,
}: {
  request: PermissionRequest;
  onReply: (reply: PermissionReply) => void;
}) {
  return (
    <div className="permission card" role="alertdialog" aria-label="Permission request">
      <p>
        The agent asks for <strong>{request.permission}</strong>
        {request.patterns.length ? `: ${request.patterns.join(", ")}` : ""}
      </p>
      <div className="actions">
        <button type="button" className="primary" onClick={() => onReply("once")}>
          Allow once
        </button>
        <button type="button" onClick={() => onReply("always")}>
          Always allow
        </button>
        <button type="button" className="danger" onClick={() => onReply("reject")}>
          Reject
        </button>
      </div>
    </div>
  );
}
