import { memo, useMemo, useState } from "react";
import { DiffCounts, DiffView } from "./DiffView";
import { turnChanges, type Turn } from "./turns";
import "./chat-turns.css";

/** The files one turn changed; each opens to its diff. */
export const TurnFiles = memo(function TurnFiles({ turn }: { turn: Turn }) {
  const changes = useMemo(() => turnChanges(turn), [turn]);
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  if (changes.length === 0) return null;
  const toggle = (file: string): void => {
    const next = new Set(open);
    if (!next.delete(file)) next.add(file);
    setOpen(next);
  };
  const label = `${changes.length} file${changes.length === 1 ? "" : "s"} changed`;
  return (
    <li className="turn-files" aria-label={label}>
      <h4>{label}</h4>
      <ul>
        {changes.map((diff) => (
          <li key={diff.file} data-file={diff.file}>
            <button
              type="button"
              className="turn-file"
              aria-expanded={open.has(diff.file)}
              onClick={() => toggle(diff.file)}
            >
              <span className="tool-chevron" aria-hidden="true" />
              <span className="diff-path">{diff.file}</span>
              <DiffCounts diff={diff} />
            </button>
            {open.has(diff.file) ? <DiffView diff={diff} head={false} fold={40} /> : null}
          </li>
        ))}
      </ul>
    </li>
  );
});
