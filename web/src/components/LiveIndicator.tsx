import type { StreamState } from "../api/sse";

const LABEL: Record<StreamState, string> = {
  open: "Live",
  connecting: "Reconnecting…",
  closed: "Offline",
};

/** Whether status updates are arriving; announced politely when it changes. */
export function LiveIndicator({ state, label = "Status updates" }: { state: StreamState; label?: string }) {
  return (
    <span className={`live live-${state}`} role="status" aria-label={`${label}: ${LABEL[state]}`}>
      <span className="dot" aria-hidden="true" />
      {LABEL[state]}
    </span>
  );
}
