import { FitAddon } from "@xterm/addon-fit";
import { Terminal } from "@xterm/xterm";
import "@xterm/xterm/css/xterm.css";
import { useEffect, useRef, useState } from "react";
import { binaryInputFrame, decodeServerFrame, handshakeFrame, inputFrame, resizeFrame } from "../api/ttyd";
import { openTerminal } from "./connect";
import { installStyleNonce } from "./styleNonce";
import { useDarkTheme } from "./useDarkTheme";

type Connection = "connecting" | "open" | "closed";

const DARK = {
  background: "#15161e",
  foreground: "#d8dae5",
  cursor: "#d8dae5",
  selectionBackground: "#3a3f5a",
};
const LIGHT = {
  background: "#fbfbfd",
  foreground: "#1f2330",
  cursor: "#1f2330",
  selectionBackground: "#c8d2f0",
};

interface Props {
  sessionId: string;
  name: string; // which of the session's terminals (its own tmux session)
  visible: boolean;
}

/** xterm.js speaking ttyd's protocol over the control plane's WebSocket proxy. */
export default function TerminalView({ sessionId, name, visible }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const terminal = useRef<Terminal | null>(null);
  const fit = useRef<FitAddon | null>(null);
  const socket = useRef<WebSocket | null>(null);
  const [connection, setConnection] = useState<Connection>("connecting");
  const [attempt, setAttempt] = useState(0);
  const [note, setNote] = useState<string | null>(null);
  const dark = useDarkTheme();

  // The terminal itself lives as long as the pane.
  useEffect(() => {
    const element = host.current;
    if (!element) return;
    installStyleNonce();
    const term = new Terminal({
      cursorBlink: true,
      fontFamily: 'ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, monospace',
      fontSize: 14,
      scrollback: 5000,
      screenReaderMode: false,
    });
    const fitAddon = new FitAddon();
    term.loadAddon(fitAddon);
    term.open(element);
    terminal.current = term;
    fit.current = fitAddon;
    const send = (frame: Uint8Array<ArrayBuffer>): void => {
      if (socket.current?.readyState === WebSocket.OPEN) socket.current.send(frame);
    };
    const subscriptions = [
      term.onData((data) => send(inputFrame(data))),
      term.onBinary((data) => send(binaryInputFrame(data))),
      term.onResize(({ cols, rows }) => send(resizeFrame({ columns: cols, rows }))),
    ];
    // Ctrl+Shift+C / Ctrl+Shift+V copy and paste, as in desktop terminals (plain Ctrl+C
    // must stay an interrupt for the shell).
    term.attachCustomKeyEventHandler((event) => {
      if (event.type !== "keydown" || !event.ctrlKey || !event.shiftKey) return true;
      if (event.code === "KeyC") {
        const selection = term.getSelection();
        if (selection) void navigator.clipboard.writeText(selection);
        return false;
      }
      if (event.code === "KeyV") {
        void navigator.clipboard.readText().then(
          (text) => term.paste(text),
          () => undefined,
        );
        return false;
      }
      return true;
    });
    return () => {
      for (const s of subscriptions) s.dispose();
      term.dispose();
      terminal.current = null;
      fit.current = null;
    };
  }, []);

  // After the terminal exists (effects run in order), and again on every theme change:
  // xterm paints its own colours, which CSS does not reach.
  useEffect(() => {
    if (terminal.current) terminal.current.options.theme = dark ? DARK : LIGHT;
  }, [dark]);

  // One WebSocket per attempt; "Reconnect" starts another.
  useEffect(() => {
    const term = terminal.current;
    if (!term) return;
    const ws = openTerminal(sessionId, name);
    socket.current = ws;
    setConnection("connecting");
    ws.onopen = () => {
      fit.current?.fit();
      ws.send(handshakeFrame({ columns: term.cols, rows: term.rows }));
      setConnection("open");
      term.focus();
    };
    ws.onmessage = (event: MessageEvent<ArrayBuffer | string>) => {
      if (typeof event.data === "string") return;
      const frame = decodeServerFrame(event.data);
      if (frame.kind === "output") term.write(frame.data);
    };
    ws.onclose = () => {
      if (socket.current === ws) setConnection("closed");
    };
    return () => {
      ws.onclose = null;
      ws.close();
      if (socket.current === ws) socket.current = null;
    };
  }, [sessionId, name, attempt]);

  // Fit to the pane whenever it changes size (window, split, phone rotation).
  useEffect(() => {
    const element = host.current;
    if (!element || !visible) return;
    let frame = 0;
    const observer = new ResizeObserver(() => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => {
        if (element.clientWidth > 0 && element.clientHeight > 0) fit.current?.fit();
      });
    });
    observer.observe(element);
    return () => {
      cancelAnimationFrame(frame);
      observer.disconnect();
    };
  }, [visible]);

  const copy = (): void => {
    const selection = terminal.current?.getSelection() ?? "";
    if (!selection) {
      setNote("Select text in the terminal first.");
      return;
    }
    navigator.clipboard.writeText(selection).then(
      () => setNote("Copied the selection."),
      () => setNote("The browser refused access to the clipboard."),
    );
  };
  const paste = (): void => {
    navigator.clipboard.readText().then(
      (text) => {
        terminal.current?.paste(text);
        terminal.current?.focus();
      },
      () => setNote("The browser refused access to the clipboard; use Ctrl+Shift+V or your browser's paste."),
    );
  };

  return (
    <div className="terminal">
      <div className="terminal-bar" role="toolbar" aria-label="Terminal">
        <span className={`live live-${connection}`}>
          <span className="dot" aria-hidden="true" />
          {connection === "open" ? "Connected" : connection === "connecting" ? "Connecting…" : "Disconnected"}
        </span>
        <button type="button" onClick={copy}>
          Copy
        </button>
        <button type="button" onClick={paste}>
          Paste
        </button>
        <button type="button" onClick={() => terminal.current?.clear()}>
          Clear
        </button>
        <span className="visually-hidden" role="status">
          {note ?? ""}
        </span>
      </div>
      <div className="terminal-host" ref={host} aria-label="Terminal output" role="region" />
      {connection === "closed" ? (
        <div className="terminal-overlay" role="alert">
          <p>Disconnected from the terminal.</p>
          <button type="button" className="primary" onClick={() => setAttempt((n) => n + 1)}>
            Reconnect
          </button>
        </div>
      ) : null}
    </div>
  );
}
