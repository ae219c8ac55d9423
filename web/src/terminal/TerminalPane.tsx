import { lazy, Suspense, useState } from "react";
import "./terminal-tabs.css";
import { closeTerminal } from "./connect";
import { loadTabs, MAX_TERMINALS, nextName, saveTabs, type TerminalTabs } from "./terminalTabs";

// xterm.js is large: it loads the first time a terminal is shown.
const TerminalView = lazy(() => import("./TerminalView"));

const FULL = `At most ${MAX_TERMINALS} terminals per session: close one to open another.`;

/**
 * A session's terminals as tabs. A tab mounts the first time it is shown and then stays
 * mounted while hidden, so its connection and screen survive switching. Closing a tab
 * ends its shell on the server at once, without asking: what it runs is the user's, and a
 * shell to keep should stay open (a reload keeps every open tab's shell).
 */
export function TerminalPane({ sessionId, visible }: { sessionId: string; visible: boolean }) {
  const [tabs, setTabsState] = useState<TerminalTabs>(() => loadTabs(sessionId));
  const [mounted, setMounted] = useState<ReadonlySet<string>>(
    () => new Set(tabs.active ? [tabs.active] : []),
  );
  const [note, setNote] = useState<string | null>(null);
  // Names whose shells are still being ended: not reused until that is done, so a new
  // tab cannot attach to a shell that is about to go.
  const [closing, setClosing] = useState<ReadonlySet<string>>(new Set());

  const setTabs = (next: TerminalTabs): void => {
    setTabsState(next);
    saveTabs(sessionId, next);
    if (next.active) {
      const active = next.active;
      setMounted((set) => new Set(set).add(active));
    }
  };
  const show = (name: string): void => {
    setNote(null);
    setTabs({ ...tabs, active: name });
  };
  const add = (): void => {
    if (tabs.names.length >= MAX_TERMINALS) {
      setNote(FULL);
      return;
    }
    const name = nextName([...tabs.names, ...closing]);
    setNote(null);
    setTabs({ names: [...tabs.names, name], active: name });
  };
  const close = (name: string): void => {
    setNote(null);
    const index = tabs.names.indexOf(name);
    const names = tabs.names.filter((n) => n !== name);
    const active = tabs.active === name ? (names[Math.min(index, names.length - 1)] ?? null) : tabs.active;
    setTabs({ names, active });
    setMounted((set) => {
      const next = new Set(set);
      next.delete(name);
      return next;
    });
    setClosing((set) => new Set(set).add(name));
    void closeTerminal(sessionId, name).then(() =>
      setClosing((set) => {
        const next = new Set(set);
        next.delete(name);
        return next;
      }),
    );
  };

  return (
    <div className="terminals">
      <div className="terminal-tabs" role="tablist" aria-label="Terminals">
        {tabs.names.map((name) => (
          <span key={name} className="terminal-tab" data-active={name === tabs.active}>
            <button
              type="button"
              role="tab"
              id={`terminal-tab-${name}`}
              aria-selected={name === tabs.active}
              aria-controls={`terminal-panel-${name}`}
              aria-label={`Terminal ${name}`}
              onClick={() => show(name)}
            >
              {name}
            </button>
            <button
              type="button"
              className="terminal-tab-close"
              aria-label={`Close terminal ${name}`}
              onClick={() => close(name)}
            >
              ×
            </button>
          </span>
        ))}
        <button type="button" className="terminal-tab-new" aria-label="New terminal" onClick={add}>
          +
        </button>
        <span className="terminal-tabs-note" role="status">
          {note ?? ""}
        </span>
      </div>
      {tabs.names
        .filter((name) => mounted.has(name))
        .map((name) => (
          <div
            key={name}
            id={`terminal-panel-${name}`}
            className="terminal-panel"
            role="tabpanel"
            aria-labelledby={`terminal-tab-${name}`}
            hidden={name !== tabs.active}
          >
            <Suspense
              fallback={
                <p className="splash" role="status">
                  Loading terminal…
                </p>
              }
            >
              <TerminalView sessionId={sessionId} name={name} visible={visible && name === tabs.active} />
            </Suspense>
          </div>
        ))}
      {tabs.names.length === 0 ? (
        <div className="terminal-none">
          <p>No terminal is open.</p>
          <button type="button" className="primary" onClick={add}>
            Open a terminal
          </button>
        </div>
      ) : null}
    </div>
  );
}
