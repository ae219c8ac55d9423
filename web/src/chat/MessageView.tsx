import { memo } from "react";
import { Markdown } from "./Markdown";
import { ToolCall } from "./ToolCall";
import type { Message, Part, TextPart } from "./types";

function PartView({ part, streaming }: { part: Part; streaming: boolean }) {
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
      return <ToolCall part={part} />;
    case "patch":
      return part.files.length > 0 ? (
        <p className="patch">Changed files: {part.files.map((f) => f.split("/").pop()).join(", ")}</p>
      ) : null;
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

export const MessageView = memo(function MessageView({ message }: { message: Message }) {
  const { info } = message;
  if (info.role === "user") {
    const text = message.parts
      .filter((p): p is TextPart => p.type === "text" && !p.synthetic)
      .map((p) => p.text)
      .join("\n");
    return (
      <li className="message user" data-message-id={info.id}>
        <span className="visually-hidden">You said:</span>
        <p className="user-text">{text}</p>
      </li>
    );
  }
  const streaming = info.time.completed === undefined;
  const error = errorLine(message);
  return (
    <li className="message assistant" data-message-id={info.id} aria-busy={streaming || undefined}>
      <span className="visually-hidden">Agent:</span>
      {message.parts.map((part) => (
        <PartView key={part.id} part={part} streaming={streaming} />
      ))}
      {error ? <p className={error === "Stopped." ? "stopped" : "form-error"}>{error}</p> : null}
    </li>
  );
});
