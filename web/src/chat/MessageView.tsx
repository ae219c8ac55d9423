import { memo, useState } from "react";
import { Markdown } from "./Markdown";
import { ToolCall } from "./ToolCall";
import type { FilePart, Message, Part, TextPart } from "./types";
import "./chat-turns.css";

function PartView({ part, streaming, cwd }: { part: Part; streaming: boolean; cwd?: string }) {
  switch (part.type) {
    case "text":
      if (part.synthetic) return null;
      return <Markdown text={part.text} streaming={streaming && part.time?.end === undefined} />;
    case "reasoning":
      return part.text ? (
        <details className="reasoning">
          <summary>Thinking</summary>
          <Markdown text={part.text} streaming={streaming} />
        </details>
      ) : null;
    case "tool":
      return <ToolCall part={part} cwd={cwd} />;
    case "file":
      return <p className="attachment">Attached: {part.filename ?? part.mime ?? "file"}</p>;
    default:
      return null;
  }
}

function errorLine(message: Message): string | null {
  const error = message.info.error;
  if (!error) return null;
  if (error.name === "MessageAbortedError") return "Stopped.";
  return error.data?.message ?? error.name;
}

function answerText(message: Message): string {
  return message.parts
    .filter((p): p is TextPart => p.type === "text" && !p.synthetic)
    .map((p) => p.text)
    .join("\n\n");
}

const clock = (ms: number): string => new Date(ms).toLocaleTimeString(undefined, { timeStyle: "short" });

/** When the answer came, how long it took, what it cost, and a way to copy it. */
function AnswerFooter({ message }: { message: Message }) {
  const { info } = message;
  const [copied, setCopied] = useState<string | null>(null);
  if (info.time.completed === undefined) return null;
  const seconds = (info.time.completed - info.time.created) / 1000;
  const tokens = info.tokens;
  const text = answerText(message);
  const facts = [
    clock(info.time.created),
    `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`,
    info.modelID ?? null,
    tokens ? `${tokens.input.toLocaleString()} in · ${tokens.output.toLocaleString()} out tokens` : null,
    info.cost ? `$${info.cost.toFixed(4)}` : null,
  ].filter((f): f is string => f !== null);
  return (
    <div className="answer-footer">
      <span className="muted" aria-label="About this answer">
        {facts.join(" · ")}
      </span>
      {text ? (
        <button
          type="button"
          aria-label="Copy the answer"
          onClick={() => {
            navigator.clipboard.writeText(text).then(
              () => setCopied("Copied the answer."),
              () => setCopied("The browser refused access to the clipboard."),
            );
          }}
        >
          Copy
        </button>
      ) : null}
      <span className="visually-hidden" role="status">
        {copied ?? ""}
      </span>
    </div>
  );
}

export const MessageView = memo(function MessageView({ message }: { message: Message }) {
  const { info } = message;
  if (info.role === "user") {
    const text = message.parts
      .filter((p): p is TextPart => p.type === "text" && !p.synthetic)
      .map((p) => p.text)
      .join("\n");
    const files = message.parts.filter((p): p is FilePart => p.type === "file");
    return (
      <li className="message user" data-message-id={info.id}>
        <span className="visually-hidden">You said:</span>
        <p className="user-text">{text}</p>
        {files.length > 0 ? (
          <ul className="file-chips" aria-label="Attached files">
            {files.map((file) => (
              <li key={file.id} className="file-chip">
                {file.filename ?? file.mime ?? "file"}
              </li>
            ))}
          </ul>
        ) : null}
      </li>
    );
  }
  const streaming = info.time.completed === undefined;
  // Tool calls name absolute paths; shown relative to where the agent ran.
  const cwd = (info as { path?: { cwd?: string } }).path?.cwd;
  const error = errorLine(message);
  return (
    <li className="message assistant" data-message-id={info.id} aria-busy={streaming || undefined}>
      <span className="visually-hidden">Agent:</span>
      {message.parts.map((part) => (
        <PartView key={part.id} part={part} streaming={streaming} cwd={cwd} />
      ))}
      {error ? <p className={error === "Stopped." ? "stopped" : "form-error"}>{error}</p> : null}
      <AnswerFooter message={message} />
    </li>
  );
});
