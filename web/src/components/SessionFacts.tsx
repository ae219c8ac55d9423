import { useEffect, useState } from "react";
import type { Session } from "../api/types";

const SERVICES: [string, string][] = [
  ["agent", "agent"],
  ["files", "files"],
  ["terminal", "terminal"],
];

export function relativeTime(iso: string, now: number): string {
  const seconds = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000));
  if (seconds < 60) return "just now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} days ago`;
}

/** How fast the current run became ready, per service ("ready in 3.1 s: agent 3.1 s · …"). */
export function ReadyTimes({ session }: { session: Session }) {
  const ready = session.ready_after;
  if (session.status !== "running" || !ready) return null;
  const parts = SERVICES.filter(([key]) => ready[key] !== undefined).map(
    ([key, label]) => `${label} ${(ready[key] ?? 0).toFixed(1)} s`,
  );
  const total = Math.max(0, ...Object.values(ready));
  return (
    <span className="muted session-ready" aria-label="Start-up times">
      ready in {total.toFixed(1)} s ({parts.join(" · ")})
    </span>
  );
}

/** Seconds since a start began, counting while it runs. */
export function StartingFor({ since }: { since: string }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, []);
  const seconds = Math.max(0, Math.round((now - new Date(since).getTime()) / 1000));
  return <span className="muted">{seconds} s so far</span>;
}

/** When the session was last used through Oqto, and why it is not running. */
export function SessionStateNote({ session }: { session: Session }) {
  // As of the first render: the list re-renders whenever the session changes.
  const [now] = useState(() => Date.now());
  return (
    <>
      {session.last_active_at ? (
        <span className="muted">last active {relativeTime(session.last_active_at, now)}</span>
      ) : null}
      {session.status === "stopped" && session.error ? (
        <span className="muted stop-reason">{session.error}</span>
      ) : null}
    </>
  );
}
