import { useState, type SubmitEvent } from "react";
import { Link, useNavigate } from "react-router-dom";
import { errorMessage } from "../api/http";
import { workspacesOf } from "../api/liveSessions";
import { createSession, deleteSession, resumeSession, stopSession } from "../api/sessions";
import type { Session } from "../api/types";
import { useSessions } from "../auth/SessionsContext";
import { ErrorText, StatusBadge } from "../components/bits";
import { InputField } from "../components/Field";
import { LiveIndicator } from "../components/LiveIndicator";
import { SandboxBadge } from "../components/SandboxBadge";
import { useDialogs } from "../components/useDialogs";
import { ReadyTimes, SessionStateNote, StartProgress } from "../components/SessionFacts";
import { formatDate } from "../lib/format";
import { useTitle } from "../lib/useTitle";

export function SessionsPage() {
  useTitle("Sessions");
  const { sessions, live, error: loadError, apply, forget } = useSessions();
  const { dialog, confirm } = useDialogs();
  const navigate = useNavigate();
  const [workspace, setWorkspace] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  const run = async (key: string, action: () => Promise<void>): Promise<void> => {
    setBusy(key);
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  };

  const create = (event: SubmitEvent): void => {
    event.preventDefault();
    void run("create", async () => {
      const session = await createSession(workspace.trim());
      apply(session);
      setWorkspace("");
      void navigate(`/sessions/${session.id}`);
    });
  };

  const remove = async (session: Session): Promise<void> => {
    const ok = await confirm({
      title: "Delete session",
      message: (
        <p>
          Delete the session of workspace <strong>{session.workspace}</strong>? Its processes are stopped; the
          workspace files are kept.
        </p>
      ),
      confirmLabel: "Delete",
      danger: true,
    });
    if (!ok) return;
    await run(session.id, async () => {
      await deleteSession(session.id);
      forget(session.id);
    });
  };

  const workspaces = workspacesOf(sessions ?? []);

  return (
    <section className="page" aria-labelledby="sessions-title">
      <div className="page-head">
        <h1 id="sessions-title">Sessions</h1>
        <LiveIndicator state={live} />
      </div>

      <form className="card inline-form" onSubmit={create} aria-label="New session">
        <InputField
          label="Workspace"
          className="grow"
          name="workspace"
          list="workspace-names"
          required
          maxLength={255}
          placeholder="e.g. my-project"
          value={workspace}
          onValue={setWorkspace}
        >
          <datalist id="workspace-names">
            {workspaces.map((name) => (
              <option key={name} value={name} />
            ))}
          </datalist>
        </InputField>
        <button type="submit" className="primary" disabled={busy === "create"}>
          New session
        </button>
      </form>
      <ErrorText error={error ?? loadError} />

      {sessions === null ? (
        <p role="status">Loading sessions…</p>
      ) : sessions.length === 0 ? (
        <p className="empty">No sessions yet. Name a workspace above to start one.</p>
      ) : (
        <ul className="session-list" aria-label="Your sessions">
          {sessions
            .slice()
            .reverse()
            .map((session) => (
              <li key={session.id} className="card session-item" data-session-id={session.id}>
                <div className="session-main">
                  <Link to={`/sessions/${session.id}`} className="session-link">
                    {session.workspace}
                  </Link>
                  <StatusBadge status={session.status} />
                  <SandboxBadge session={session} />
                  <span className="muted">started {formatDate(session.created_at)}</span>
                  <SessionStateNote session={session} />
                  <ReadyTimes session={session} />
                </div>
                <StartProgress session={session} />
                {session.status === "failed" && session.error ? (
                  <details className="failure">
                    <summary>Why it failed</summary>
                    <pre>{session.error}</pre>
                  </details>
                ) : null}
                <div className="actions">
                  {session.status === "running" || session.status === "starting" ? (
                    <button
                      type="button"
                      disabled={busy === session.id}
                      onClick={() => void run(session.id, async () => apply(await stopSession(session.id)))}
                      aria-label={`Stop ${session.workspace}`}
                    >
                      Stop
                    </button>
                  ) : null}
                  {session.status === "stopped" || session.status === "failed" ? (
                    <button
                      type="button"
                      disabled={busy === session.id}
                      onClick={() => void run(session.id, async () => apply(await resumeSession(session.id)))}
                      aria-label={`Resume ${session.workspace}`}
                    >
                      Resume
                    </button>
                  ) : null}
                  <button
                    type="button"
                    className="danger"
                    disabled={busy === session.id}
                    onClick={() => void remove(session)}
                    aria-label={`Delete ${session.workspace}`}
                  >
                    Delete
                  </button>
                </div>
              </li>
            ))}
        </ul>
      )}
      {dialog}
    </section>
  );
}
