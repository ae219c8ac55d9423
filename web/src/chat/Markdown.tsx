import { memo, useEffect, useMemo, useRef } from "react";
import { renderMarkdown } from "./markdown";

/**
 * Sanitised Markdown. Code is highlighted once the text stops changing (a streaming
 * answer is re-rendered per token; highlighting each time would be wasted work).
 */
export const Markdown = memo(function Markdown({ text, streaming }: { text: string; streaming: boolean }) {
  const html = useMemo(() => renderMarkdown(text), [text]);
  const ref = useRef<HTMLDivElement>(null);
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
  // `html` comes from DOMPurify (see markdown.ts): inert markup only.
  return <div ref={ref} className="markdown" dangerouslySetInnerHTML={{ __html: html }} />;
});
