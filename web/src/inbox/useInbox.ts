import { useEffect, useSyncExternalStore } from "react";
import { useSessions } from "../auth/SessionsContext";
import { usePageVisible } from "../lib/usePageVisible";
import { inbox } from "./inboxStore";
import type { InboxSnapshot } from "./inboxState";

/** The inbox, asked every `every` ms while this tab is visible (see inboxStore.ts). */
export function useInbox(every: number): InboxSnapshot {
  const { sessions } = useSessions();
  const visible = usePageVisible();
  useEffect(() => inbox.track(sessions ?? []), [sessions]);
  useEffect(() => (visible ? inbox.hold(every) : undefined), [visible, every]);
  return useSyncExternalStore(inbox.subscribe, inbox.getSnapshot);
}
