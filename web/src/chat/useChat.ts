import {
  useCallback,
  useEffect,
  useReducer,
  useRef,
  useState,
  type Dispatch,
  type SetStateAction,
} from "react";
import { notifyUnauthorized } from "../api/http";
import { openEventStream, type StreamState } from "../api/sse";
import { usePageVisible } from "../lib/usePageVisible";
import { chatReducer, initialChat, type ChatState } from "./chatState";
import { parseOcEvent, type OpencodeClient } from "./opencode";
import type { PendingClient } from "./pendingApi";
import type { OcSession } from "./types";

const newestFirst = (a: OcSession, b: OcSession): number => b.time.updated - a.time.updated;

export function upsertOcSession(list: OcSession[] | null, session: OcSession): OcSession[] {
  return [session, ...(list ?? []).filter((s) => s.id !== session.id)].sort(newestFirst);
}

export interface ChatHandle {
  state: ChatState;
  stream: StreamState;
  loadError: string | null;
  dismissError: () => void;
  permissionAnswered: (id: string) => void;
  questionAnswered: (id: string) => void;
}

/**
 * One opencode event stream per chat pane. On every (re)connection the conversation list
 * and the open conversation are refetched (see chatState.ts for how events in flight are
 * merged), so a dropped stream never leaves the chat frozen.
 */
export function useChat(
  client: OpencodeClient,
  pending: PendingClient,
  selected: string | null,
  setConversations: Dispatch<SetStateAction<OcSession[] | null>>,
): ChatHandle {
  const [state, dispatch] = useReducer(chatReducer, selected ?? "", initialChat);
  const [stream, setStream] = useState<StreamState>("connecting");
  const [loadError, setLoadError] = useState<string | null>(null);
  const selectedRef = useRef(selected);
  const visible = usePageVisible();
  const showError = useCallback((e: unknown) => setLoadError(e instanceof Error ? e.message : String(e)), []);

  const loadConversation = useCallback(
    (id: string) => {
      dispatch({ type: "resync-start" });
      Promise.all([
        client.messages(id),
        client.statuses(),
        pending.permissions(),
        pending.questions(),
        pending.todos(id),
      ]).then(([messages, statuses, permissions, questions, todos]) => {
        // Another conversation may have been opened meanwhile.
        if (selectedRef.current !== id) return;
        const status = statuses[id] ?? "idle";
        dispatch({ type: "snapshot", messages, status, waiting: { permissions, questions }, todos });
        setLoadError(null);
      }, showError);
    },
    [client, pending, showError],
  );

  const resync = useCallback(() => {
    client.listSessions().then((list) => setConversations(list.sort(newestFirst)), showError);
    if (selectedRef.current) loadConversation(selectedRef.current);
  }, [client, loadConversation, setConversations, showError]);

  useEffect(() => {
    selectedRef.current = selected;
    dispatch({ type: "reset", sessionId: selected ?? "" });
    if (selected) loadConversation(selected);
  }, [selected, loadConversation]);

  useEffect(() => {
    if (!visible) return;
    const events = openEventStream({
      url: client.eventsUrl,
      onState: setStream,
      onUnauthorized: notifyUnauthorized,
      // The session stopped or went away: the session page replaces this pane.
      onRefused: showError,
      onOpen: resync,
      onMessage: (message) => {
        const event = parseOcEvent(message);
        if (!event) return;
        if (event.type === "session.updated" || event.type === "session.created") {
          const info = event.properties.info as OcSession | undefined;
          // Only conversations already listed, or new ones of this workspace.
          if (info && !info.parentID) {
            void client.directory().then((directory) => {
              if (info.directory === undefined || info.directory === directory) {
                setConversations((list) => upsertOcSession(list, info));
              }
            });
          }
        } else if (event.type === "session.deleted") {
          const info = event.properties.info as OcSession | undefined;
          if (info) setConversations((list) => (list ?? []).filter((s) => s.id !== info.id));
        }
        dispatch({ type: "event", event });
      },
    });
    return () => events.close();
  }, [client, resync, setConversations, showError, visible]);

  return {
    state,
    stream,
    loadError,
    dismissError: useCallback(() => dispatch({ type: "dismiss-error" }), []),
    permissionAnswered: useCallback((id: string) => dispatch({ type: "permission-answered", id }), []),
    questionAnswered: useCallback((id: string) => dispatch({ type: "question-answered", id }), []),
  };
}
