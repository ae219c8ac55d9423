import { useSyncExternalStore } from "react";

function subscribe(onChange: () => void): () => void {
  document.addEventListener("visibilitychange", onChange);
  return () => document.removeEventListener("visibilitychange", onChange);
}

/**
 * Whether this tab is visible. Event streams close while it is hidden: browsers allow only
 * six HTTP/1.1 connections per host, and a few background tabs each holding streams open
 * would otherwise starve the tab in front. Reopening resyncs, so nothing is missed.
 */
export function usePageVisible(): boolean {
  return useSyncExternalStore(
    subscribe,
    () => document.visibilityState !== "hidden",
    () => true,
  );
}
