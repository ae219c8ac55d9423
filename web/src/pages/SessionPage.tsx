import { useRef, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { errorMessage } from "../api/http";
import { resumeSession, stopSession } from "../api/sessions";
import type { Session } from "../api/types";
import { useSessions } from "../auth/SessionsContext";
import { ChatPane } from "../chat/ChatPane";
import { ErrorText, StatusBadge } from "../components/bits";
import { Field } from "../components/Field";
import { SandboxBadge } from "../components/SandboxBadge";
import { SplitDivider } from "../components/SplitDivider";
import { ReadyTimes, StartingNote } from "../components/SessionFacts";
import { FilesPane } from "../files/FilesPane";
import { useSplitRatio } from "../lib/splitRatio";
import { useTitle } from "../lib/useTitle";
import "../styles/session-layout.css";
import { TerminalPane } from "../terminal/TerminalPane";

type PaneId = "chat" | "files" | "terminal";

const PANES: { id: PaneId; label: string }[] = [
  { id: "chat", label: "Chat" },
  { id: "files", label: "Files" },
  { id: "terminal", label: "Terminal" },
];

export default function SessionPage() {
  const { sessionId = "" } = useParams();
  const { sessions } = useSessions();
  const session = sessions?.find((s) => s.id === sessionId);
  useTitle(session ? session.workspace : "Session");

  if (sessions === null) return <p role="status">Loading…</p>;
  if (!session) {
    return (
      <section className="page">
        <h1>Session not found</h1>
        <p>
          It may have been deleted. <Link to="/">Back to your sessions</Link>
        </p>
      </section>
    );
  }
  return <SessionView session={session} />;
}

function SessionView({ session }: { session: Session }) {
  const { apply } = useSessions();
  const [primary, setPrimary] = useState<PaneId>("chat");
  const [secondary, setSecondary] = useState<PaneId | "none">("none");
  // Panes mount the first time they are shown and then stay mounted while hidden, so a
  // terminal keeps its shell and the chat its scroll position when switching.
  const [opened, setOpened] = useState<ReadonlySet<PaneId>>(new Set(["chat"]));
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [ratio, setRatio] = useSplitRatio();
  const panes = useRef<HTMLDivElement>(null);

  const show = (pane: PaneId): void => {
    setPrimary(pane);
    if (secondary === pane) setSecondary("none");
    setOpened((set) => new Set(set).add(pane));
  };
  const split = (value: PaneId | "none"): void => {
    setSecondary(value);
    if (value !== "none") setOpened((set) => new Set(set).add(value));
  };

  const act = (action: () => Promise<Session>): void => {
    setBusy(true);
    setError(null);
    action()
      .then(apply, (e: unknown) => setError(errorMessage(e)))
      .finally(() => setBusy(false));
  };

  const running = session.status === "running";
  const visible = (pane: PaneId): boolean => pane === primary || pane === secondary;
  const splitting = secondary !== "none";
  // The primary pane comes first, then the divider, then the secondary (CSS order), and
  // the two share the width by `ratio` (flex-grow over a zero basis).
  const paneStyle = (pane: PaneId) =>
    pane === primary
      ? { order: 0, flexGrow: splitting ? ratio : 1 }
      : { order: 2, flexGrow: splitting ? 1 - ratio : 1 };

  return (
    <section className="session-page" aria-labelledby="session-title">
      <div className="session-head">
        <div className="session-title">
          <Link to="/" className="back" aria-label="Back to sessions">
            ←
          </Link>
          <h1 id="session-title">{session.workspace}</h1>
          <StatusBadge status={session.status} />
          <SandboxBadge session={session} />
          <ReadyTimes session={session} />
        </div>
        <div className="actions">
          {session.status === "running" || session.status === "starting" ? (
            <button type="button" disabled={busy} onClick={() => act(() => stopSession(session.id))}>
              Stop session
            </button>
          ) : null}
          {session.status === "stopped" || session.status === "failed" ? (
            <button
              type="button"
              className="primary"
              disabled={busy}
              onClick={() => act(() => resumeSession(session.id))}
            >
              Resume session
            </button>
          ) : null}
        </div>
      </div>
      <ErrorText error={error} />

      <div className="pane-bar" role="toolbar" aria-label="Panes">
        <div className="segmented" role="group" aria-label="Show pane">
          {PANES.map((pane) => (
            <button
              key={pane.id}
              type="button"
              aria-pressed={primary === pane.id}
              onClick={() => show(pane.id)}
            >
              {pane.label}
            </button>
          ))}
        </div>
        <Field label="Split with" className="inline split-control">
          <select value={secondary} onChange={(e) => split(e.target.value as PaneId | "none")}>
            <option value="none">Nothing</option>
            {PANES.filter((p) => p.id !== primary).map((pane) => (
              <option key={pane.id} value={pane.id}>
                {pane.label}
              </option>
            ))}
          </select>
        </Field>
      </div>

      {running ? (
        <div className={splitting ? "panes split" : "panes"} ref={panes}>
          {PANES.filter((pane) => opened.has(pane.id)).map((pane) => (
            <section
              key={pane.id}
              id={`pane-${pane.id}`}
              className={`pane pane-${pane.id}${pane.id === secondary ? " secondary" : ""}`}
              aria-label={pane.label}
              hidden={!visible(pane.id)}
              style={paneStyle(pane.id)}
            >
              {pane.id === "chat" ? <ChatPane sessionId={session.id} /> : null}
              {pane.id === "files" ? <FilesPane sessionId={session.id} /> : null}
              {pane.id === "terminal" ? (
                <TerminalPane sessionId={session.id} visible={visible("terminal")} />
              ) : null}
            </section>
          ))}
          {splitting ? (
            <SplitDivider ratio={ratio} onChange={setRatio} container={panes} controls={`pane-${primary}`} />
          ) : null}
        </div>
      ) : (
        <NotRunning session={session} />
      )}
    </section>
  );
}

function NotRunning({ session }: { session: Session }) {
  if (session.status === "starting") {
    return (
      <p className="notice" role="status">
        <StartingNote session={session} />
      </p>
    );
  }
  if (session.status === "stopping") {
    return (
      <p className="notice" role="status">
        Stopping…
      </p>
    );
  }
  return (
    <div className="notice">
      <p>
        This session is {session.status}
        {session.status === "stopped" && session.error ? ` (${session.error})` : ""}. Resume it to use the
        chat, files and terminal.
      </p>
      {session.status === "failed" && session.error ? (
        <pre className="failure-log">{session.error}</pre>
      ) : null}
    </div>
  );
}
