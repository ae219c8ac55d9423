import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { openEventStream, SseParser, type SseMessage, type StreamState } from "./sse";

describe("SseParser", () => {
  it("parses events, names, ids and multi-line data", () => {
    const parser = new SseParser();
    const out = parser.feed('event: session\nid: 7\ndata: {"a":1}\n\ndata: line1\ndata: line2\n\n');
    expect(out).toEqual([
      { event: "session", data: '{"a":1}', id: "7" },
      { event: "message", data: "line1\nline2", id: "7" },
    ]);
  });

  it("reassembles events split at any byte", () => {
    const stream = 'event: x\ndata: {"long":"value"}\n\n: keepalive\n\ndata: two\r\n\r\n';
    for (let cut = 1; cut < stream.length; cut++) {
      const parser = new SseParser();
      const out = [...parser.feed(stream.slice(0, cut)), ...parser.feed(stream.slice(cut))];
      expect(out.map((m) => m.data)).toEqual(['{"long":"value"}', "two"]);
    }
  });

  it("handles CR, LF and CRLF line ends, even a CRLF split across chunks", () => {
    const parser = new SseParser();
    const out = [...parser.feed("data: a\r"), ...parser.feed("\n\r\ndata: b\r\rdata: c\n\n")];
    expect(out.map((m) => m.data)).toEqual(["a", "b", "c"]);
  });

  it("ignores comments (heartbeats), unknown fields and empty events", () => {
    const parser = new SseParser();
    expect(parser.feed(": keepalive\n\nretry: 10\nfoo: bar\n\n\n")).toEqual([]);
  });

  it("takes a field without a colon as empty, and strips one leading space only", () => {
    const parser = new SseParser();
    expect(parser.feed("data\ndata:  two spaces\n\n")).toEqual([
      { event: "message", data: "\n two spaces", id: null },
    ]);
  });
});

/** A fake `fetch` whose responses the test feeds by hand. */
class FakeServer {
  connections: { controller: ReadableStreamDefaultController<Uint8Array>; signal: AbortSignal }[] = [];
  /** What the next connections get instead of a stream: a status, or a whole response. */
  nextStatus: (number | Response)[] = [];
  fetch = vi.fn((_url: string, init?: RequestInit): Promise<Response> => {
    const status = this.nextStatus.shift() ?? 200;
    if (status instanceof Response) return Promise.resolve(status);
    if (status !== 200) return Promise.resolve(new Response("", { status }));
    const signal = init?.signal ?? new AbortController().signal;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.connections.push({ controller, signal });
        signal.addEventListener("abort", () => {
          try {
            controller.error(new DOMException("aborted", "AbortError"));
          } catch {
            // already closed
          }
        });
      },
    });
    return Promise.resolve(
      new Response(body, { status: 200, headers: { "Content-Type": "text/event-stream" } }),
    );
  });

  send(text: string, index = this.connections.length - 1): void {
    this.connections[index]?.controller.enqueue(new TextEncoder().encode(text));
  }

  drop(index = this.connections.length - 1): void {
    this.connections[index]?.controller.error(new TypeError("network error"));
  }
}

describe("openEventStream", () => {
  let server: FakeServer;
  let messages: SseMessage[];
  let states: StreamState[];
  let opens: number;

  beforeEach(() => {
    vi.useFakeTimers();
    server = new FakeServer();
    messages = [];
    states = [];
    opens = 0;
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  const open = (extra: Partial<Parameters<typeof openEventStream>[0]> = {}) =>
    openEventStream({
      url: "/api/events",
      fetchImpl: server.fetch as unknown as typeof fetch,
      onMessage: (m) => messages.push(m),
      onOpen: () => {
        opens += 1;
      },
      onState: (s) => states.push(s),
      backoffMs: (attempt) => attempt * 1000,
      idleTimeoutMs: 45_000,
      ...extra,
    });

  it("delivers events and resyncs (onOpen) on every reconnection", async () => {
    const stream = open();
    await vi.advanceTimersByTimeAsync(0);
    expect(opens).toBe(1);
    server.send("event: resync\ndata: {}\n\n");
    await vi.advanceTimersByTimeAsync(0);
    expect(messages.map((m) => m.event)).toEqual(["resync"]);

    server.drop();
    await vi.advanceTimersByTimeAsync(0);
    expect(states.at(-1)).toBe("connecting");
    expect(server.fetch).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(server.fetch).toHaveBeenCalledTimes(2);
    expect(opens).toBe(2);
    expect(states.at(-1)).toBe("open");

    server.send('event: session\ndata: {"id":"s1"}\n\n');
    await vi.advanceTimersByTimeAsync(0);
    expect(messages.map((m) => m.event)).toEqual(["resync", "session"]);
    stream.close();
    expect(states.at(-1)).toBe("closed");
  });

  it("backs off further after each failed attempt, and resets after a success", async () => {
    server.nextStatus = [503, 502];
    const stream = open();
    await vi.advanceTimersByTimeAsync(0);
    expect(server.fetch).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1000); // attempt 1 waited 1 s
    expect(server.fetch).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(1999);
    expect(server.fetch).toHaveBeenCalledTimes(2); // attempt 2 waits 2 s
    await vi.advanceTimersByTimeAsync(1);
    expect(server.fetch).toHaveBeenCalledTimes(3);
    expect(opens).toBe(1);
    server.drop();
    await vi.advanceTimersByTimeAsync(1000); // back to the first delay
    expect(server.fetch).toHaveBeenCalledTimes(4);
    stream.close();
  });

  it("treats a silent stream as dead and reconnects", async () => {
    const stream = open({ idleTimeoutMs: 5000 });
    await vi.advanceTimersByTimeAsync(0);
    server.send(": keepalive\n\n");
    await vi.advanceTimersByTimeAsync(4000);
    server.send(": keepalive\n\n"); // heartbeats keep it alive
    await vi.advanceTimersByTimeAsync(4000);
    expect(server.fetch).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1001); // 5 s of silence
    await vi.advanceTimersByTimeAsync(1000);
    expect(server.fetch).toHaveBeenCalledTimes(2);
    expect(opens).toBe(2);
    stream.close();
  });

  it("stops for good on 401 and says so", async () => {
    const unauthorized = vi.fn();
    server.nextStatus = [401];
    open({ onUnauthorized: unauthorized });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(unauthorized).toHaveBeenCalledTimes(1);
    expect(server.fetch).toHaveBeenCalledTimes(1);
    expect(states.at(-1)).toBe("closed");
  });

  it("stops for good on a refusal retrying cannot cure, and says why", async () => {
    const refused = vi.fn();
    server.nextStatus = [
      new Response(JSON.stringify({ error: "session_not_running", message: "the session is stopped" }), {
        status: 409,
        headers: { "Content-Type": "application/json" },
      }),
    ];
    open({ onRefused: refused });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.fetch).toHaveBeenCalledTimes(1);
    expect(refused).toHaveBeenCalledWith(
      expect.objectContaining({
        status: 409,
        code: "session_not_running",
        message: "the session is stopped",
      }),
    );
    expect(states.at(-1)).toBe("closed");
  });

  it("retries a starting session no sooner than its Retry-After", async () => {
    server.nextStatus = [
      new Response(JSON.stringify({ error: "session_starting", message: "starting" }), {
        status: 503,
        headers: { "Content-Type": "application/json", "Retry-After": "3" },
      }),
    ];
    const stream = open();
    await vi.advanceTimersByTimeAsync(2999); // the backoff alone would have retried after 1 s
    expect(server.fetch).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.fetch).toHaveBeenCalledTimes(2);
    expect(opens).toBe(1);
    stream.close();
  });

  it("close() aborts the request and never reconnects", async () => {
    const stream = open();
    await vi.advanceTimersByTimeAsync(0);
    stream.close();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.connections[0]?.signal.aborted).toBe(true);
    expect(server.fetch).toHaveBeenCalledTimes(1);
  });
});
