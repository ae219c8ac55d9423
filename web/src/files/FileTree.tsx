import type { Entry } from "../api/files";
import "./files.css";

interface TreeProps {
  dir: string;
  listings: Record<string, Entry[] | undefined>;
  /** Per directory: entries the file server could not list (names not valid UTF-8). */
  invalidNames: Record<string, number | undefined>;
  expanded: ReadonlySet<string>;
  selected: string | null;
  onToggle: (entry: Entry) => void;
  onSelect: (entry: Entry) => void;
  depth?: number;
}

/** Small inline icons: emoji fonts are not on every machine. */
function Icon({ type, open }: { type: Entry["type"]; open: boolean }) {
  if (type === "dir") {
    return (
      <svg className="icon" viewBox="0 0 16 16" aria-hidden="true">
        <path d={open ? "M1 4h5l1 1h7v2H4l-2 6H1z M4 8h11l-2 6H2z" : "M1 3h5l1.5 1.5H15V13H1z"} />
      </svg>
    );
  }
  return (
    <svg className="icon" viewBox="0 0 16 16" aria-hidden="true">
      <path d={type === "symlink" ? "M3 1h7l3 3v11H3z M6 9h4M8 7l2 2-2 2" : "M3 1h7l3 3v11H3z"} />
    </svg>
  );
}

/**
 * Directories load one level at a time, when first opened. Every entry is a button, so
 * the tree works with Tab/Enter/Space; folders say whether they are expanded.
 */
export function FileTree({
  dir,
  listings,
  invalidNames,
  expanded,
  selected,
  onToggle,
  onSelect,
  depth = 0,
}: TreeProps) {
  const entries = listings[dir];
  if (entries === undefined) {
    return (
      <p className="tree-loading" role="status">
        Loading…
      </p>
    );
  }
  const invalid = invalidNames[dir] ?? 0;
  const unlisted =
    invalid > 0 ? (
      <li className="tree-unlisted muted">
        {invalid === 1 ? "1 entry" : `${invalid} entries`} not shown: names that are not valid UTF-8 (rename
        them in the terminal)
      </li>
    ) : null;
  if (entries.length === 0 && !unlisted) {
    return depth === 0 ? <p className="empty">This workspace is empty.</p> : null;
  }
  return (
    <ul className={depth === 0 ? "tree" : "tree-children"}>
      {entries.map((entry) => {
        const isDir = entry.type === "dir";
        const open = isDir && expanded.has(entry.path);
        return (
          <li key={entry.path}>
            <button
              type="button"
              className="tree-item"
              data-path={entry.path}
              aria-expanded={isDir ? open : undefined}
              aria-current={entry.path === selected || undefined}
              onClick={() => (isDir ? onToggle(entry) : onSelect(entry))}
            >
              <Icon type={entry.type} open={open} />
              <span className="tree-name">{entry.name}</span>
            </button>
            {open ? (
              <FileTree
                dir={entry.path}
                listings={listings}
                invalidNames={invalidNames}
                expanded={expanded}
                selected={selected}
                onToggle={onToggle}
                onSelect={onSelect}
                depth={depth + 1}
              />
            ) : null}
          </li>
        );
      })}
      {unlisted}
    </ul>
  );
}
