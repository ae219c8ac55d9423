import type { Entry } from "../api/files";
import { formatBytes, formatDate } from "../lib/format";

/** A folder's entries with their sizes and modification times, folders first. */
export function FolderView({
  title,
  entries,
  onOpen,
}: {
  title: string;
  entries: Entry[] | undefined;
  onOpen: (entry: Entry) => void;
}) {
  if (entries === undefined) return <p role="status">Loading…</p>;
  const sorted = [...entries].sort(
    (a, b) => Number(b.type === "dir") - Number(a.type === "dir") || a.name.localeCompare(b.name),
  );
  return (
    <div className="folder-view">
      <h3 className="viewer-title">{title}</h3>
      {sorted.length === 0 ? (
        <p className="muted">This folder is empty.</p>
      ) : (
        <div className="table-wrap">
          <table aria-label={`Contents of ${title}`}>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col" className="num">
                  Size
                </th>
                <th scope="col">Modified</th>
              </tr>
            </thead>
            <tbody>
              {sorted.map((entry) => (
                <tr key={entry.path}>
                  <td>
                    <button type="button" className="link" onClick={() => onOpen(entry)}>
                      {entry.type === "dir" ? `${entry.name}/` : entry.name}
                    </button>
                  </td>
                  <td className="num">{entry.type === "dir" ? "—" : formatBytes(entry.size)}</td>
                  <td>{formatDate(new Date(entry.mtime * 1000).toISOString())}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
