import type { StreamState } from "../api/sse";
import { Field } from "../components/Field";
import { LiveIndicator } from "../components/LiveIndicator";
import type { OcSession } from "./types";

interface ConversationListProps {
  conversations: OcSession[] | null;
  selected: string | null;
  stream: StreamState;
  onSelect: (id: string | null) => void;
  onNew: () => void;
}

/** The workspace's opencode conversations: a list on wide screens, a menu on phones. */
export function ConversationList({
  conversations,
  selected,
  stream,
  onSelect,
  onNew,
}: ConversationListProps) {
  const list = conversations ?? [];
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
              {s.title || "Untitled"}
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
              {s.title || "Untitled"}
            </button>
          </li>
        ))}
      </ul>
    </aside>
  );
}
