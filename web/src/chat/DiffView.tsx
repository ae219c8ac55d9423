import { useState } from "react";
import type { DiffLine, FileDiff } from "./diff";
import "./chat-turns.css";

const SIGN: Record<DiffLine["kind"], string> = { add: "+", del: "-", context: " ", hunk: "" };

/** +N −M, as a phrase for screen readers. */
export function DiffCounts({ diff }: { diff: FileDiff }) {
  return (
    <span
      className="diff-counts"
      aria-label={`${diff.additions} added, ${diff.deletions} removed line${diff.deletions === 1 ? "" : "s"}`}
    >
      <span className="diff-count-add">+{diff.additions}</span>{" "}
      <span className="diff-count-del">−{diff.deletions}</span>
    </span>
  );
}

/**
 * One file's change: added and removed lines coloured, the first `fold` lines shown and
 * the rest behind "Show all" (a rewritten file can be thousands of lines).
 */
export function DiffView({ diff, fold = 8, head = true }: { diff: FileDiff; fold?: number; head?: boolean }) {
  const [expanded, setExpanded] = useState(false);
  const long = diff.lines.length > fold;
  const shown = long && !expanded ? diff.lines.slice(0, fold) : diff.lines;
  return (
    <div className="diff-view" data-file={diff.file}>
      {head ? (
        <div className="diff-head">
          <span className="diff-path">{diff.file}</span>
          <DiffCounts diff={diff} />
        </div>
      ) : null}
      {diff.replaced ? <p className="diff-note">Replaced the whole file with:</p> : null}
      {diff.lines.length > 0 ? (
        <pre className="tool-diff" aria-label={`Changes to ${diff.file}`}>
          {shown.map((line, index) => (
            <span key={index} className={`diff-line diff-${line.kind}`}>
              {SIGN[line.kind]}
              {line.text}
              {"\n"}
            </span>
          ))}
        </pre>
      ) : (
        <p className="diff-note">No line changes to show.</p>
      )}
      {long ? (
        <button
          type="button"
          className="diff-more"
          aria-expanded={expanded}
          aria-label={`${expanded ? "Show fewer" : `Show all ${diff.lines.length}`} lines of ${diff.file}`}
          onClick={() => setExpanded(!expanded)}
        >
          {expanded ? "Show fewer lines" : `Show all ${diff.lines.length} lines`}
        </button>
      ) : null}
    </div>
  );
}
