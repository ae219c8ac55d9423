import { useEffect, useState } from "react";
import type { ServiceProgress, Session } from "../api/types";
import "./session-facts.css";

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

const SERVICE_LABEL: Record<ServiceProgress["service"], string> = {
  agent: "Agent",
  files: "File server",
  terminal: "Terminal",
};

function phaseText(step: ServiceProgress): string {
  if (step.phase === "ready" && step.ready_after != null) return `ready in ${step.ready_after.toFixed(1)} s`;
  return step.phase;
}

/**
 * Where a start is, per service (waiting / started / ready in 1.2 s / failed): shown while
 * the session starts, and after a failed start, to say which service failed. Spans, so it
 * fits in a paragraph.
 */
export function StartProgress({ session }: { session: Session }) {
  const steps = session.progress;
  if (!steps || (session.status !== "starting" && session.status !== "failed")) return null;
  return (
    <span className="start-progress" role="list" aria-label={`Start of ${session.workspace}`}>
      {steps.map((step) => (
        <span
          key={step.service}
          role="listitem"
          className={`phase-${step.phase}`}
          data-service={step.service}
          data-phase={step.phase}
        >
          <span className="start-service">{SERVICE_LABEL[step.service]}</span>{" "}
          <span className="start-phase">{phaseText(step)}</span>
        </span>
      ))}
    </span>
  );
}

/** The session page while a start is under way: how long so far, and where each service is. */
export function StartingNote({ session }: { session: Session }) {
  return (
    <>
      Starting the session’s agent, file server and terminal… <StartingFor since={session.updated_at} />
      <StartProgress session={session} />
    </>
  );
}

/** Seconds since a start began, counting while it runs. */
function StartingFor({ since }: { since: string }) {
  const now = useNow(1000);
  const seconds = Math.max(0, Math.round((now - new Date(since).getTime()) / 1000));
  return <span className="muted">{seconds} s so far</span>;
}

/** The current time, again every `everyMs`. */
function useNow(everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), everyMs);
    return () => window.clearInterval(timer);
  }, [everyMs]);
  return now;
}

/** When the session was last used through Oqto (kept across restarts), and why it is not running. */
export function SessionStateNote({ session }: { session: Session }) {
  // Minutes are its finest unit; a newer activity re-renders it anyway.
  const now = useNow(30_000);
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
