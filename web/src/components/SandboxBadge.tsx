import { useId, type ReactNode } from "react";
import type { Sandbox, Session } from "../api/types";
import { formatBytes } from "../lib/format";

const NETWORK: Record<string, string> = {
  host: "the host’s network",
  allowlist: "its own; out only to the allowed hosts, through the allow-list proxy",
  none: "its own, loopback only",
};

const live = (session: Session): boolean => session.status === "running" || session.status === "stopping";

/** How a session is confined: a compact badge, the details (limits) in a popover. A
 * session whose processes are not confined says so in the warning colour, and so does a
 * running one whose user plane reports no sandbox at all. */
export function SandboxBadge({ session }: { session: Session }) {
  const id = useId();
  const report = session.sandbox ?? null;
  if (report === null && !live(session)) return null;
  const confined = report?.enabled === true;
  const label = confined
    ? ["sandboxed", report.profile, report.network].filter(Boolean).join(" · ")
    : "unsandboxed";
  const unenforced = report?.limits_unenforced;
  return (
    <span className="sandbox" data-sandbox={confined ? "on" : "off"}>
      <button
        type="button"
        className={`badge ${confined ? "sandbox-on" : "sandbox-off"}`}
        popoverTarget={id}
        aria-haspopup="dialog"
      >
        {label}
      </button>
      {unenforced ? (
        <button
          type="button"
          className="badge sandbox-off limits-unenforced"
          popoverTarget={id}
          aria-haspopup="dialog"
          title={unenforced}
        >
          limits not enforced: {unenforced}
        </button>
      ) : null}
      <div id={id} popover="auto" role="dialog" aria-label="Sandbox" className="sandbox-popover">
        {live(session) ? null : <p className="muted">How its latest run was confined.</p>}
        {report === null ? (
          <p>Its user plane reports no sandbox: treat the session’s processes as unconfined.</p>
        ) : confined ? (
          <Details report={report} />
        ) : (
          <p>
            The sandbox is turned off (<code>enabled = false</code> in the administrator’s sandbox file): the
            agent, its tools, the file server and the terminal run with all the access of the account.
          </p>
        )}
      </div>
    </span>
  );
}

function Details({ report }: { report: Sandbox }) {
  const limit = (value: number | null | undefined, show: (v: number) => string = String): string =>
    value == null ? "not limited" : show(value);
  const rows: [string, ReactNode][] = [
    ["Profile", report.profile ?? "—"],
    ["Network", report.network ? `${report.network}: ${NETWORK[report.network] ?? "as configured"}` : "—"],
    ["Processes", report.pid_namespace ? "its own (host processes hidden)" : "sees the host’s"],
    ["Memory", limit(report.memory_max, formatBytes)],
    ["Tasks", limit(report.tasks_max)],
    ["CPU weight", report.cpu_weight == null ? "default" : String(report.cpu_weight)],
  ];
  return (
    <>
      <dl className="sandbox-facts">
        {rows.map(([term, value]) => (
          <div key={term}>
            <dt>{term}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      {report.limits_unenforced ? (
        <p className="sandbox-warning">Limits not enforced: {report.limits_unenforced}</p>
      ) : null}
    </>
  );
}
