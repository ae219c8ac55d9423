/**
 * One inbox for every running session of the user: what each one's agent waits on.
 *
 * It polls (each running session's `/permission` and `/question`, while a visible page
 * shows the inbox or its count) rather than holding each session's event stream open:
 * browsers allow six HTTP/1.1 connections per host, and a stream per session would starve
 * the page once a few sessions run. Two small JSON lists per session are cheap, and a
 * request that waits on a person can well wait a few seconds to show up here. The inbox
 * page itself asks often; the count in the navigation, shown on every page, less so.
 */
import { errorMessage } from "../api/http";
import type { Session } from "../api/types";
import { PendingClient } from "../chat/pendingApi";
import {
  emptyInbox,
  inboxSnapshot,
  settleAnswered,
  type InboxSnapshot,
  type SessionWaiting,
} from "./inboxState";

export const INBOX_PAGE_POLL_MS = 5_000;
export const INBOX_COUNT_POLL_MS = 20_000;

class InboxStore {
  private running: Session[] = [];
  private readonly results = new Map<string, SessionWaiting>();
  private readonly answered = new Map<string, Set<string>>();
  private readonly clients = new Map<string, PendingClient>();
  private readonly listeners = new Set<() => void>();
  private snapshot: InboxSnapshot = emptyInbox;
  /** The poll interval each holder asked for; the shortest wins. */
  private readonly holds = new Map<symbol, number>();
  private timer: { id: number; every: number } | null = null;
  private polling = false;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): InboxSnapshot => this.snapshot;

  /** The user's sessions changed: ask any newly running one at once. */
  track(sessions: Session[]): void {
    const running = sessions.filter((s) => s.status === "running");
    const ids = new Set(running.map((s) => s.id));
    const added = running.some((s) => !this.results.has(s.id));
    for (const map of [this.results, this.answered, this.clients]) {
      for (const id of [...map.keys()]) if (!ids.has(id)) map.delete(id);
    }
    this.running = running;
    this.publish();
    if (added && this.holds.size > 0) void this.poll();
  }

  /** Poll at least every `every` ms while held (a visible page shows the inbox or its
   * count); returns the release. */
  hold(every: number): () => void {
    const key = Symbol("hold");
    const first = this.holds.size === 0;
    this.holds.set(key, every);
    this.schedule();
    if (first) void this.poll();
    return () => {
      this.holds.delete(key);
      this.schedule();
    };
  }

  private schedule(): void {
    const every = this.holds.size ? Math.min(...this.holds.values()) : null;
    if (this.timer?.every === every) return;
    if (this.timer) window.clearInterval(this.timer.id);
    this.timer = every === null ? null : { id: window.setInterval(() => void this.poll(), every), every };
  }

  client(sessionId: string): PendingClient {
    let client = this.clients.get(sessionId);
    if (!client) {
      client = new PendingClient(sessionId);
      this.clients.set(sessionId, client);
    }
    return client;
  }

  /** A request of `sessionId` was answered here: leave it out from now on. */
  answer(sessionId: string, requestId: string): void {
    const done = this.answered.get(sessionId) ?? new Set<string>();
    done.add(requestId);
    this.answered.set(sessionId, done);
    this.publish();
  }

  private async poll(): Promise<void> {
    // One round at a time, so results land in the order they were asked for.
    if (this.polling) return;
    this.polling = true;
    try {
      await Promise.all(this.running.map((session) => this.ask(session.id)));
    } finally {
      this.polling = false;
    }
    this.publish();
  }

  private async ask(sessionId: string): Promise<void> {
    const client = this.client(sessionId);
    let result: SessionWaiting;
    try {
      const [permissions, questions] = await Promise.all([client.permissions(), client.questions()]);
      result = { permissions, questions, error: null };
    } catch (e) {
      const previous = this.results.get(sessionId);
      result = {
        permissions: previous?.permissions ?? [],
        questions: previous?.questions ?? [],
        error: errorMessage(e),
      };
    }
    // The session may have stopped while it was asked.
    if (!this.running.some((s) => s.id === sessionId)) return;
    this.results.set(sessionId, result);
    const done = this.answered.get(sessionId);
    if (done && result.error === null) settleAnswered(done, result);
  }

  private publish(): void {
    this.snapshot = inboxSnapshot(this.running, this.results, this.answered);
    for (const listener of this.listeners) listener();
  }
}

export const inbox = new InboxStore();
