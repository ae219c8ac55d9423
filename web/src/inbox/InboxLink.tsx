import { NavLink } from "react-router-dom";
import "./inbox.css";
import { INBOX_COUNT_POLL_MS } from "./inboxStore";
import { useInbox } from "./useInbox";

/** The navigation's way to the inbox, with how many requests wait there. */
export function InboxLink() {
  const { count } = useInbox(INBOX_COUNT_POLL_MS);
  return (
    <NavLink to="/inbox" className="inbox-link">
      Inbox
      {count > 0 ? (
        <>
          <span className="badge inbox-count" aria-hidden="true" data-testid="inbox-count">
            {count}
          </span>
          <span className="visually-hidden">{` (${count} waiting)`}</span>
        </>
      ) : null}
    </NavLink>
  );
}
