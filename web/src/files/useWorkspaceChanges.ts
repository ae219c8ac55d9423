import { useEffect, useRef } from "react";
import { notifyUnauthorized } from "../api/http";
import { openEventStream } from "../api/sse";
import { changedFile, OpencodeClient, parseOcEvent } from "../chat/opencode";

/**
 * Calls `onChange(paths)` with the workspace-relative paths opencode reports changed
 * (the agent's edits, its file watcher), batched over `settleMs` so a burst of edits
 * refreshes once; and with `[]` after each (re)connection, when changes may have been
 * missed.
 */
export function useWorkspaceChanges(sessionId: string, onChange: (paths: string[]) => void, settleMs = 300) {
  const callback = useRef(onChange);
  useEffect(() => {
    callback.current = onChange;
  }, [onChange]);

  useEffect(() => {
    const client = new OpencodeClient(sessionId);
    let pending: Set<string> | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let opened = false;
    const flush = (): void => {
      timer = null;
      const paths = pending ? [...pending] : [];
      pending = null;
      callback.current(paths);
    };
    const stream = openEventStream({
      url: client.eventsUrl,
      onUnauthorized: notifyUnauthorized,
      onOpen: () => {
        // The first open is the pane's own first load; a reopen may have missed changes.
        if (opened) callback.current([]);
        opened = true;
      },
      onMessage: (message) => {
        const event = parseOcEvent(message);
        if (!event) return;
        void client.directory().then((directory) => {
          const path = changedFile(event, directory);
          if (path === null) return;
          (pending ??= new Set()).add(path);
          timer ??= setTimeout(flush, settleMs);
        });
      },
    });
    return () => {
      stream.close();
      if (timer !== null) clearTimeout(timer);
    };
  }, [sessionId, settleMs]);
}
