import { Fragment, useLayoutEffect, useMemo, useRef } from "react";
import type { ChatState } from "./chatState";
import { MessageView } from "./MessageView";
import { TurnFiles } from "./TurnFiles";
import { groupTurns } from "./turns";

export function MessageList({ state }: { state: ChatState }) {
  const ref = useRef<HTMLOListElement>(null);
  const pinned = useRef(true);
  const turns = useMemo(() => groupTurns(state.messages), [state.messages]);
  // Follow the answer as it streams, unless the reader scrolled up to read.
  useLayoutEffect(() => {
    const list = ref.current;
    if (list && pinned.current) list.scrollTop = list.scrollHeight;
  });
  const onScroll = (): void => {
    const list = ref.current;
    if (list) pinned.current = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  };
  return (
    // Focusable so the conversation can be scrolled with the keyboard.
    <ol className="messages" ref={ref} onScroll={onScroll} aria-label="Messages" tabIndex={0}>
      {state.messages.length === 0 ? (
        <li className="empty">
          {state.loaded ? "No messages yet. Ask the agent something below." : "Start a conversation below."}
        </li>
      ) : null}
      {turns.map((turn) => (
        <Fragment key={turn.prompt?.info.id ?? turn.replies[0]?.info.id}>
          {turn.prompt ? <MessageView message={turn.prompt} /> : null}
          {turn.replies.map((message) => (
            <MessageView key={message.info.id} message={message} />
          ))}
          <TurnFiles turn={turn} />
        </Fragment>
      ))}
    </ol>
  );
}
