import { memo, useEffect, useMemo, useRef, useState, type MouseEvent } from "react";
import { renderMarkdown } from "./markdown";
import "./chat-turns.css";

const COPY_LABEL = "Copy the code";

/**
 * Each code block gets a Copy button. The blocks are markup React does not manage (see
 * below), so the buttons are added to it the same way highlighting is, after each render
 * of new HTML; they are our own elements, not the agent's (which DOMPurify strips).
 */
function addCopyButtons(root: HTMLElement): void {
  for (const pre of root.querySelectorAll<HTMLPreElement>("pre")) {
    if (pre.parentElement?.classList.contains("code-block")) continue;
    const block = document.createElement("div");
    block.className = "code-block";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "code-copy";
    button.textContent = "Copy";
    button.setAttribute("aria-label", COPY_LABEL);
    pre.replaceWith(block);
    block.append(pre, button);
  }
}

/**
 * Sanitised Markdown. Code is highlighted once the text stops changing (a streaming
 * answer is re-rendered per token; highlighting each time would be wasted work).
 */
export const Markdown = memo(function Markdown({ text, streaming }: { text: string; streaming: boolean }) {
  const html = useMemo(() => renderMarkdown(text), [text]);
  const ref = useRef<HTMLDivElement>(null);
  const [said, setSaid] = useState("");
  useEffect(() => {
    const element = ref.current;
    if (element) addCopyButtons(element);
  }, [html]);
  useEffect(() => {
    const element = ref.current;
    if (streaming || !element?.querySelector("pre code")) return;
    let cancelled = false;
    void import("./highlight").then(({ highlightWithin }) => {
      if (!cancelled) highlightWithin(element);
    });
    return () => {
      cancelled = true;
    };
  }, [html, streaming]);

  const onClick = (event: MouseEvent<HTMLDivElement>): void => {
    const button = (event.target as Element).closest<HTMLButtonElement>("button.code-copy");
    const code = button?.parentElement?.querySelector("pre")?.textContent;
    if (!button || code == null) return;
    // marked ends every block with a newline the fence did not have.
    navigator.clipboard.writeText(code.replace(/\n$/, "")).then(
      () => {
        button.textContent = "Copied";
        setSaid("Copied the code.");
        window.setTimeout(() => {
          button.textContent = "Copy";
        }, 2000);
      },
      () => setSaid("The browser refused access to the clipboard."),
    );
  };

  return (
    <>
      {/* `html` comes from DOMPurify (see markdown.ts): inert markup only. The click
          handler only reacts to the Copy buttons added above. */}
      <div ref={ref} className="markdown" onClick={onClick} dangerouslySetInnerHTML={{ __html: html }} />
      {said ? (
        <span className="visually-hidden" aria-live="polite">
          {said}
        </span>
      ) : null}
    </>
  );
});
