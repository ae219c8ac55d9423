import { useEffect, useState } from "react";
import type { StreamState } from "../api/sse";
import { Field } from "../components/Field";
import { LiveIndicator } from "../components/LiveIndicator";
import { conversationTitle, firstPrompt } from "./titles";
import type { Message, OcSession } from "./types";

interface ConversationListProps {
  conversations: OcSession[] | null;
  selected: string | null;
  /** The open conversation's messages: its first prompt names it until opencode does. */
  openMessages: Message[];
  stream: StreamState;
  onSelect: (id: string | null) => void;
  onNew: () => void;
}

/** The clock for "5 min ago", a minute at a time. */
function useMinuteClock(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 60_000);
    return () => window.clearInterval(timer);
  }, []);
  return now;
}

/** The workspace's opencode conversations: a list on wide screens, a menu on phones. */
export function ConversationList({
  conversations,
  selected,
  openMessages,
  stream,
  onSelect,
  onNew,
}: ConversationListProps) {
  const list = conversations ?? [];
  const now = useMinuteClock();
  const prompt = firstPrompt(openMessages);
  const title = (s: OcSession): string => conversationTitle(s, s.id === selected ? prompt : null, now);
  return (
    <aside className="chat-sessions" aria-label="Conversations">
      <div className="chat-sessions-head">
        <button type="button" onClick={onNew}>
          New chat
        </button>
        <LiveIndicator state={stream} label="Agent events" />
      </div>
      <Field label="Conversation" hideLabel className="conversation-picker">
        <select value={selected ?? ""} onChange={(e) => onSelect(e.target.value || null)}>
          {selected === null ? <option value="">No conversation yet</option> : null}
          {list.map((s) => (
            <option key={s.id} value={s.id}>
              {title(s)}
            </option>
          ))}
        </select>
      </Field>
      <ul className="conversation-list">
        {list.map((s) => (
          <li key={s.id}>
            <button
              type="button"
              aria-current={s.id === selected || undefined}
              onClick={() => onSelect(s.id)}
            >
              {title(s)}
            </button>
          </li>
        ))}
      </ul>
    </aside>
  );
}
