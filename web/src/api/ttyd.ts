/**
 * ttyd's WebSocket protocol (subprotocol `tty`), as its own web client speaks it.
 *
 * Client -> server, binary frames: first a JSON handshake `{AuthToken, columns, rows}`
 * (the control plane authenticates the upgrade itself, so the token is empty), then
 * `'0' + input`, `'1' + JSON {columns, rows}` (resize), `'2'` pause, `'3'` resume.
 * Server -> client: `'0' + output bytes`, `'1' + window title`, `'2' + JSON preferences`.
 */

export const TTYD_SUBPROTOCOL = "tty";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const ClientCommand = { INPUT: "0", RESIZE: "1", PAUSE: "2", RESUME: "3" } as const;
export const ServerCommand = { OUTPUT: "0", SET_WINDOW_TITLE: "1", SET_PREFERENCES: "2" } as const;

export interface TermSize {
  columns: number;
  rows: number;
}

export function handshakeFrame(size: TermSize): Uint8Array<ArrayBuffer> {
  return encoder.encode(JSON.stringify({ AuthToken: "", columns: size.columns, rows: size.rows }));
}

export function inputFrame(data: string): Uint8Array<ArrayBuffer> {
  const body = encoder.encode(data);
  const frame = new Uint8Array(body.length + 1);
  frame[0] = ClientCommand.INPUT.charCodeAt(0);
  frame.set(body, 1);
  return frame;
}

/** Input that is already bytes (xterm's `onBinary`, e.g. some mouse reports). */
export function binaryInputFrame(data: string): Uint8Array<ArrayBuffer> {
  const frame = new Uint8Array(data.length + 1);
  frame[0] = ClientCommand.INPUT.charCodeAt(0);
  for (let i = 0; i < data.length; i++) frame[i + 1] = data.charCodeAt(i) & 0xff;
  return frame;
}

export function resizeFrame(size: TermSize): Uint8Array<ArrayBuffer> {
  return encoder.encode(ClientCommand.RESIZE + JSON.stringify({ columns: size.columns, rows: size.rows }));
}

export type ServerFrame =
  | { kind: "output"; data: Uint8Array }
  | { kind: "title"; title: string }
  | { kind: "preferences"; preferences: Record<string, unknown> }
  | { kind: "unknown"; command: string };

export function decodeServerFrame(frame: ArrayBuffer | Uint8Array): ServerFrame {
  const bytes = frame instanceof Uint8Array ? frame : new Uint8Array(frame);
  if (bytes.length === 0) return { kind: "unknown", command: "" };
  const command = String.fromCharCode(bytes[0] ?? 0);
  const payload = bytes.subarray(1);
  switch (command) {
    case ServerCommand.OUTPUT:
      return { kind: "output", data: payload };
    case ServerCommand.SET_WINDOW_TITLE:
      return { kind: "title", title: decoder.decode(payload) };
    case ServerCommand.SET_PREFERENCES: {
      try {
        const parsed: unknown = JSON.parse(decoder.decode(payload));
        if (parsed && typeof parsed === "object") {
          return { kind: "preferences", preferences: parsed as Record<string, unknown> };
        }
      } catch {
        // fall through: a malformed preferences frame is ignored
      }
      return { kind: "preferences", preferences: {} };
    }
    default:
      return { kind: "unknown", command };
  }
}

/** ws:// or wss:// URL of a session's terminal on this origin. */
export function terminalUrl(location: Pick<Location, "protocol" | "host">, sessionId: string): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/api/sessions/${encodeURIComponent(sessionId)}/terminal`;
}
