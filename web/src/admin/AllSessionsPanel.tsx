import { useState } from "react";
import { forceStop, listAllSessions } from "../api/admin";
import { errorMessage } from "../api/http";
import type { AdminSession } from "../api/types";
import { ErrorText, StatusBadge } from "../components/bits";
import { DataTable } from "../components/DataTable";
import { SandboxBadge } from "../components/SandboxBadge";
import { useDialogs } from "../components/useDialogs";
import { formatDate } from "../lib/format";
import { useLoader } from "./useLoader";

export function AllSessionsPanel() {
  const { data: sessions, error: loadError, reload, setData } = useLoader(listAllSessions);
  const { dialog, confirm } = useDialogs();
  const [error, setError] = useState<string | null>(null);

  const stop = async (session: AdminSession): Promise<void> => {
    const ok = await confirm({
      title: "Force-stop session",
      message: (
        <p>
          Stop {session.username}’s session of <strong>{session.workspace}</strong>? Their agent and terminal
          are ended at once.
        </p>
      ),
      confirmLabel: "Stop it",
      danger: true,
    });
    if (!ok) return;
    setError(null);
    try {
      const stopped = await forceStop(session.id);
      setData((list) => (list ?? []).map((s) => (s.id === stopped.id ? stopped : s)));
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  return (
    <div className="panel">
      <div className="actions">
        <button type="button" onClick={reload}>
          Refresh
        </button>
      </div>
      <ErrorText error={error ?? loadError} />
      <DataTable
        label="All sessions"
        columns={["User", "Workspace", "Status", "Sandbox", "Updated", "Actions"]}
      >
        {(sessions ?? []).map((session) => (
          <tr key={session.id}>
            <th scope="row">{session.username}</th>
            <td>{session.workspace}</td>
            <td>
              <StatusBadge status={session.status} />
            </td>
            <td>
              <SandboxBadge session={session} />
            </td>
            <td>{formatDate(session.updated_at)}</td>
            <td>
              {session.status === "running" || session.status === "starting" ? (
                <button
                  type="button"
                  className="danger"
                  onClick={() => void stop(session)}
                  aria-label={`Force-stop ${session.username}/${session.workspace}`}
                >
                  Force stop
                </button>
              ) : null}
            </td>
          </tr>
        ))}
      </DataTable>
      {dialog}
    </div>
  );
}
