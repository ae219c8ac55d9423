import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
  type ReactNode,
} from "react";
import { notifyUnauthorized } from "../api/http";
import { parseSessionEvent, removeSession, upsertSession } from "../api/liveSessions";
import { listSessions } from "../api/sessions";
import { openEventStream, type StreamState } from "../api/sse";
import type { Session } from "../api/types";
import { usePageVisible } from "../lib/usePageVisible";

export interface SessionsValue {
  sessions: Session[] | null;
  live: StreamState;
  error: string | null;
  /** Apply a session the API just returned, ahead of its event. */
  apply: (session: Session) => void;
  forget: (id: string) => void;
}

const SessionsContext = createContext<SessionsValue | null>(null);

export function SessionsProvider({ children }: { children: ReactNode }) {
  const [sessions, setSessions] = useState<Session[] | null>(null);
  const [live, setLive] = useState<StreamState>("connecting");
  const [error, setError] = useState<string | null>(null);
  const generation = useRef(0);
  const visible = usePageVisible();

  const reload = useCallback(() => {
    // Only the newest fetch may land: an older one must not overwrite fresher state.
    const mine = ++generation.current;
    listSessions().then(
      (list) => {
        if (mine !== generation.current) return;
        setSessions(list);
        setError(null);
      },
      (e: unknown) => {
        if (mine === generation.current) setError(e instanceof Error ? e.message : String(e));
      },
    );
  }, []);

  // Once up front as well: the page works (without live updates) even where something
  // between us and the browser holds event streams back.
  useEffect(reload, [reload]);

  useEffect(() => {
    if (!visible) return;
    const stream = openEventStream({
      url: "/api/events",
      onState: setLive,
      onUnauthorized: notifyUnauthorized,
      onRefused: (e) => setError(e.message),
      onMessage: (message) => {
        const update = parseSessionEvent(message);
        if (update.kind === "resync") reload();
        else if (update.kind === "upsert") setSessions((list) => upsertSession(list ?? [], update.session));
        else if (update.kind === "delete") setSessions((list) => removeSession(list ?? [], update.id));
      },
    });
    return () => stream.close();
  }, [reload, visible]);

  const apply = useCallback((session: Session) => {
    setSessions((list) => upsertSession(list ?? [], session));
  }, []);
  const forget = useCallback((id: string) => {
    setSessions((list) => removeSession(list ?? [], id));
  }, []);

  const value = useMemo(
    () => ({ sessions, live, error, apply, forget }),
    [sessions, live, error, apply, forget],
  );
  return <SessionsContext.Provider value={value}>{children}</SessionsContext.Provider>;
}

export function useSessions(): SessionsValue {
  const value = useContext(SessionsContext);
  if (!value) throw new Error("useSessions outside SessionsProvider");
  return value;
}
