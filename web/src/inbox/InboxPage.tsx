import { Link } from "react-router-dom";
import { PermissionPrompt } from "../chat/PermissionPrompt";
import { QuestionPrompt } from "../chat/QuestionPrompt";
import { useTitle } from "../lib/useTitle";
import "./inbox.css";
import type { InboxEntry } from "./inboxState";
import { inbox, INBOX_PAGE_POLL_MS } from "./inboxStore";
import { useInbox } from "./useInbox";

/** Every permission request and question the agents of the user's running sessions wait
 * on, each answerable here. */
export function InboxPage() {
  useTitle("Inbox");
  const { entries, count, loaded } = useInbox(INBOX_PAGE_POLL_MS);
  return (
    <section className="page inbox-page" aria-labelledby="inbox-title">
      <div className="page-head">
        <h1 id="inbox-title">Inbox</h1>
      </div>
      <p className="muted" role="status">
        {count > 0
          ? `${count} ${count === 1 ? "request waits" : "requests wait"} for you.`
          : loaded
            ? "Nothing waits for you: no agent has a question or asks for permission."
            : "Asking your running sessions…"}
      </p>
      {entries.map((entry) => (
        <SessionRequests key={entry.session.id} entry={entry} />
      ))}
    </section>
  );
}

function SessionRequests({ entry }: { entry: InboxEntry }) {
  const { session } = entry;
  const client = inbox.client(session.id);
  const answered = (id: string) => (): void => inbox.answer(session.id, id);
  const conversation = (id: string): string =>
    `/sessions/${encodeURIComponent(session.id)}?${new URLSearchParams({ conversation: id }).toString()}`;
  return (
    <section className="inbox-session card" aria-label={`Session ${session.workspace}`}>
      <h2>
        <Link to={`/sessions/${encodeURIComponent(session.id)}`}>{session.workspace}</Link>
      </h2>
      {entry.error ? (
        <p className="form-error" role="alert">
          Could not ask this session: {entry.error}
        </p>
      ) : null}
      {entry.permissions.map((request) => (
        <div key={request.id} className="inbox-item">
          <PermissionPrompt
            request={request}
            onReply={(reply) => client.replyPermission(request.id, reply).then(answered(request.id))}
          />
          <Link to={conversation(request.sessionID)}>Open the conversation</Link>
        </div>
      ))}
      {entry.questions.map((request) => (
        <div key={request.id} className="inbox-item">
          <QuestionPrompt
            request={request}
            onAnswer={(answers) => client.replyQuestion(request.id, answers).then(answered(request.id))}
            onDismiss={() => client.rejectQuestion(request.id).then(answered(request.id))}
          />
          <Link to={conversation(request.sessionID)}>Open the conversation</Link>
        </div>
      ))}
    </section>
  );
}
