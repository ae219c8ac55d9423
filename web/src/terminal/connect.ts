import { handshakeFrame, terminalUrl, TTYD_SUBPROTOCOL } from "../api/ttyd";

/** The WebSocket of one of a session's terminals (`?name=N`: attach, creating it). */
export function openTerminal(sessionId: string, name: string, close = false): WebSocket {
  const query = new URLSearchParams({ name });
  if (close) query.set("close", "1");
  const ws = new WebSocket(`${terminalUrl(window.location, sessionId)}?${query}`, [TTYD_SUBPROTOCOL]);
  ws.binaryType = "arraybuffer";
  return ws;
}

/** Ends a terminal's shell (its tmux session) on the server: ttyd runs the attach
 * command with `close` once the handshake arrives, which ends the connection. */
export function closeTerminal(sessionId: string, name: string): Promise<void> {
  return new Promise((resolve) => {
    const ws = openTerminal(sessionId, name, true);
    ws.onopen = () => ws.send(handshakeFrame({ columns: 80, rows: 24 }));
    ws.onclose = () => resolve();
    ws.onerror = () => resolve();
  });
}
