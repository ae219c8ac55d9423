/**
 * Agent output as Markdown, made safe for our origin, in two layers:
 *
 * 1. Raw HTML in the Markdown is never parsed as HTML: `marked` renders it as escaped text
 *    (a coding agent's `<div>` is shown, not built). So the only markup is what `marked`
 *    itself produces from Markdown syntax.
 * 2. That markup still goes through DOMPurify (e.g. `[x](javascript:...)` links), which keeps
 *    only inert elements: no script, no event handlers, no forms, no inline styles.
 *
 * The page's CSP is the third line of defence.
 */
import DOMPurify from "dompurify";
import { Marked } from "marked";

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ESCAPES[ch] ?? ch);
}

const marked = new Marked({
  gfm: true,
  breaks: false,
  async: false,
  renderer: {
    html({ text }) {
      return escapeHtml(text);
    },
  },
});

const purifier = DOMPurify(window);
purifier.setConfig({
  USE_PROFILES: { html: true },
  FORBID_TAGS: [
    "style",
    "form",
    "input",
    "button",
    "textarea",
    "select",
    "option",
    "iframe",
    "object",
    "embed",
  ],
  FORBID_ATTR: ["style", "class", "id", "name"],
  ALLOW_DATA_ATTR: false,
});
// Links open elsewhere and tell the target nothing about us.
purifier.addHook("afterSanitizeAttributes", (node) => {
  if (node instanceof HTMLAnchorElement) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer nofollow");
  }
});
// Code blocks keep their language class (`language-xyz`), and only that, for highlighting.
purifier.addHook("uponSanitizeAttribute", (node, data) => {
  if (data.attrName === "class" && node.nodeName === "CODE" && /^language-[\w+#.-]+$/.test(data.attrValue)) {
    data.forceKeepAttr = true;
  }
});

export function renderMarkdown(text: string): string {
  const html = marked.parse(text) as string;
  return purifier.sanitize(html);
}
