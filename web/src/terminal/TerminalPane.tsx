import { lazy, Suspense } from "react";

// xterm.js is large: it loads the first time a terminal is shown.
const TerminalView = lazy(() => import("./TerminalView"));

export function TerminalPane({ sessionId, visible }: { sessionId: string; visible: boolean }) {
  return (
    <Suspense
      fallback={
        <p className="splash" role="status">
          Loading terminal…
        </p>
      }
    >
      <TerminalView sessionId={sessionId} visible={visible} />
    </Suspense>
  );
}
