/**
 * Server-Sent Events over `fetch`, with reconnection.
 *
 * Not `EventSource`: it cannot tell a 401 (stop, sign in again) from a network blip, it
 * retries on its own schedule, and it has no idle watchdog. Here every (re)connection calls
 * `onOpen`, which is where callers refetch state they may have missed while disconnected
 * ("resync"), and a stream that goes silent for longer than `idleTimeoutMs` (the servers
 * send a comment every 15 s) is treated as dead and reopened.
 *
 * A refusal that waiting cannot cure (409 `session_not_running`, 404, 403) ends the stream;
 * 5xx, 408 and 429 are retried, never sooner than the server's `Retry-After`.
 */
import { errorFrom, type ApiError } from "./http";

export interface SseMessage {
  event: string;
  data: string;
  id: string | null;
}

/** Incremental parser of the `text/event-stream` format (WHATWG HTML, 9.2.6). */
export class SseParser {
  private buffer = "";
  private data: string[] = [];
  private event = "";
  private id: string | null = null;
  private sawCR = false;

  feed(chunk: string): SseMessage[] {
    const out: SseMessage[] = [];
    let text = chunk;
    // A CRLF split across chunks: the LF belongs to the CR already handled.
    if (this.sawCR && text.startsWith("\n")) text = text.slice(1);
    this.sawCR = false;
    this.buffer += text;
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      if (!match) break;
      // A lone CR at the very end may be the first half of a CRLF.
      if (match[0] === "\r" && match.index === this.buffer.length - 1) {
        this.sawCR = true;
      }
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const message = this.line(line);
      if (message) out.push(message);
    }
    return out;
  }

  private line(line: string): SseMessage | null {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return null; // comment (heartbeat)
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "data":
        this.data.push(value);
        break;
      case "event":
        this.event = value;
        break;
      case "id":
        if (!value.includes("\0")) this.id = value;
        break;
      default:
        break; // `retry` and unknown fields: our client keeps its own schedule.
    }
    return null;
  }

  private dispatch(): SseMessage | null {
    if (this.data.length === 0) {
      this.event = "";
      return null;
    }
    const message = { event: this.event || "message", data: this.data.join("\n"), id: this.id };
    this.data = [];
    this.event = "";
    return message;
  }
}

export type StreamState = "connecting" | "open" | "closed";

export interface EventStreamOptions {
  url: string;
  onMessage: (message: SseMessage) => void;
  /** Each successful (re)connection; refetch anything that may have been missed. */
  onOpen?: () => void;
  onState?: (state: StreamState) => void;
  /** The server said 401: the stream stops for good. */
  onUnauthorized?: () => void;
  /** Refused for a reason retrying cannot change: the stream stops for good. */
  onRefused?: (error: ApiError) => void;
  idleTimeoutMs?: number;
  /** Delay before reconnect attempt `n` (1-based). */
  backoffMs?: (attempt: number) => number;
  fetchImpl?: typeof fetch;
}

export interface EventStream {
  close(): void;
}

export const DEFAULT_IDLE_TIMEOUT_MS = 45_000;

export function defaultBackoff(attempt: number): number {
  const base = Math.min(15_000, 500 * 2 ** Math.min(attempt - 1, 5));
  return base / 2 + Math.random() * (base / 2);
}

class StreamGone extends Error {}

/** Statuses that may pass by themselves: a server starting, overloaded or slow. */
const retryable = (status: number): boolean => status >= 500 || status === 408 || status === 429;

export function openEventStream(options: EventStreamOptions): EventStream {
  const fetchImpl = options.fetchImpl ?? fetch.bind(globalThis);
  const idleTimeout = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const backoff = options.backoffMs ?? defaultBackoff;
  // An object, not a `let`: it changes under the awaits in `connect`.
  const life = { closed: false };
  const isClosed = (): boolean => life.closed;
  let controller: AbortController | null = null;
  let retryTimer: ReturnType<typeof setTimeout> | null = null;
  let idleTimer: ReturnType<typeof setTimeout> | null = null;
  let failures = 0;

  const setState = (state: StreamState): void => options.onState?.(state);

  const clearIdle = (): void => {
    if (idleTimer !== null) clearTimeout(idleTimer);
    idleTimer = null;
  };

  const armIdle = (abort: AbortController): void => {
    clearIdle();
    idleTimer = setTimeout(() => {
      abort.abort(new StreamGone("idle"));
    }, idleTimeout);
  };

  const stop = (): void => {
    clearIdle();
    life.closed = true;
    setState("closed");
  };

  const scheduleReconnect = (notBeforeMs = 0): void => {
    if (life.closed) return;
    failures += 1;
    setState("connecting");
    retryTimer = setTimeout(
      () => {
        retryTimer = null;
        void connect();
      },
      Math.max(backoff(failures), notBeforeMs),
    );
  };

  const connect = async (): Promise<void> => {
    if (life.closed) return;
    const abort = new AbortController();
    controller = abort;
    setState("connecting");
    let notBeforeMs = 0;
    try {
      armIdle(abort);
      const response = await fetchImpl(options.url, {
        headers: { Accept: "text/event-stream" },
        credentials: "same-origin",
        cache: "no-store",
        signal: abort.signal,
      });
      if (response.status === 401) {
        stop();
        options.onUnauthorized?.();
        return;
      }
      if (!response.ok) {
        const error = await errorFrom(response);
        if (!retryable(response.status)) {
          stop();
          options.onRefused?.(error);
          return;
        }
        notBeforeMs = (error.retryAfter ?? 0) * 1000;
        throw error;
      }
      if (!response.body) throw new StreamGone("no body");
      failures = 0;
      setState("open");
      options.onOpen?.();
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      const parser = new SseParser();
      for (;;) {
        armIdle(abort);
        const { done, value } = await reader.read();
        if (done || isClosed()) break;
        for (const message of parser.feed(value)) {
          if (isClosed()) break;
          options.onMessage(message);
        }
      }
    } catch {
      // Network error, idle timeout or server error: all mean "reconnect".
    } finally {
      clearIdle();
      if (controller === abort) controller = null;
    }
    scheduleReconnect(notBeforeMs);
  };

  void connect();

  return {
    close(): void {
      if (life.closed) return;
      stop();
      if (retryTimer !== null) clearTimeout(retryTimer);
      controller?.abort(new StreamGone("closed"));
    },
  };
}
