import { useCallback, useEffect, useRef, useState, type DragEvent } from "react";
import {
  deletePath,
  downloadUrl,
  listDir,
  makeDir,
  renamePath,
  uploadFiles,
  writeFile,
  zipUrl,
  type Entry,
  type TreeListing,
} from "../api/files";
import { errorMessage } from "../api/http";
import { ErrorText } from "../components/bits";
import { useDialogs } from "../components/useDialogs";
import { baseName, joinPath, nameProblem, parentPath } from "../lib/paths";
import { FileTree } from "./FileTree";
import { FileViewer } from "./FileViewer";
import { FolderView } from "./FolderView";
import { useWorkspaceChanges } from "./useWorkspaceChanges";

interface Upload {
  id: number;
  name: string;
  dir: string;
  fraction: number;
  error: string | null;
}

let uploadIds = 0;

export function FilesPane({ sessionId }: { sessionId: string }) {
  const [listings, setListings] = useState<Record<string, Entry[] | undefined>>({});
  const [invalidNames, setInvalidNames] = useState<Record<string, number | undefined>>({});
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());
  const [selected, setSelected] = useState<Entry | null>(null);
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [dragging, setDragging] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [announcement, setAnnouncement] = useState("");
  const picker = useRef<HTMLInputElement>(null);
  const { dialog, confirm, prompt } = useDialogs();

  const show = useCallback((dir: string, listing: TreeListing): void => {
    setListings((all) => ({ ...all, [dir]: listing.entries }));
    setInvalidNames((all) => ({ ...all, [dir]: listing.invalid_names }));
  }, []);

  const load = useCallback(
    async (dir: string): Promise<void> => {
      try {
        show(dir, await listDir(sessionId, dir));
      } catch (e) {
        setError(errorMessage(e));
      }
    },
    [sessionId, show],
  );

  useEffect(() => {
    listDir(sessionId, "").then(
      (listing) => show("", listing),
      (e: unknown) => setError(errorMessage(e)),
    );
  }, [sessionId, show]);

  const refresh = useCallback((): void => {
    for (const dir of ["", ...expanded]) void load(dir);
  }, [expanded, load]);

  // The agent (or anything else) changed files: the tree follows, and an open file
  // that changed says so (bumping its counter).
  const [diskChanges, setDiskChanges] = useState<Record<string, number>>({});
  const onWorkspaceChange = useCallback(
    (paths: string[]): void => {
      refresh();
      setDiskChanges((all) => {
        const next = { ...all };
        for (const path of paths) next[path] = (next[path] ?? 0) + 1;
        return next;
      });
    },
    [refresh],
  );
  useWorkspaceChanges(sessionId, onWorkspaceChange);

  // Where new folders and uploads go: the selected folder, or the selected file's folder.
  const currentDir = selected ? (selected.type === "dir" ? selected.path : parentPath(selected.path)) : "";

  const toggle = (entry: Entry): void => {
    setSelected(entry);
    setExpanded((set) => {
      const next = new Set(set);
      if (next.has(entry.path)) next.delete(entry.path);
      else {
        next.add(entry.path);
        void load(entry.path);
      }
      return next;
    });
  };

  const act = async (action: () => Promise<void>, done: string): Promise<void> => {
    setError(null);
    try {
      await action();
      setAnnouncement(done);
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  const newFolder = async (): Promise<void> => {
    const name = await prompt({
      title: "New folder",
      label: "Folder name",
      confirmLabel: "Create",
      validate: nameProblem,
    });
    if (name === null) return;
    const path = joinPath(currentDir, name.trim());
    await act(async () => {
      await makeDir(sessionId, path);
      if (currentDir) setExpanded((set) => new Set(set).add(currentDir));
      await load(currentDir);
    }, `Created folder ${name.trim()}`);
  };

  const newFile = async (): Promise<void> => {
    const dir = currentDir;
    const taken = new Set((listings[dir] ?? []).map((e) => e.name));
    const name = await prompt({
      title: "New file",
      label: "File name",
      confirmLabel: "Create",
      validate: (value) =>
        nameProblem(value) ?? (taken.has(value.trim()) ? "That name is taken here." : null),
    });
    if (name === null) return;
    await act(async () => {
      const entry = await writeFile(sessionId, joinPath(dir, name.trim()), "", null);
      if (dir) setExpanded((set) => new Set(set).add(dir));
      await load(dir);
      setSelected(entry);
    }, `Created file ${name.trim()}`);
  };

  const rename = async (): Promise<void> => {
    if (!selected) return;
    const name = await prompt({
      title: `Rename ${selected.name}`,
      label: "New name",
      initial: selected.name,
      confirmLabel: "Rename",
      validate: nameProblem,
    });
    if (name === null || name.trim() === selected.name) return;
    const dir = parentPath(selected.path);
    await act(async () => {
      const entry = await renamePath(sessionId, selected.path, joinPath(dir, name.trim()));
      setSelected(entry);
      await load(dir);
    }, `Renamed to ${name.trim()}`);
  };

  const remove = async (): Promise<void> => {
    if (!selected) return;
    const target = selected;
    const ok = await confirm({
      title: `Delete ${target.name}`,
      message: (
        <p>
          Delete <strong>{target.path}</strong>
          {target.type === "dir" ? " and everything in it" : ""}? This cannot be undone.
        </p>
      ),
      confirmLabel: "Delete",
      danger: true,
    });
    if (!ok) return;
    await act(async () => {
      await deletePath(sessionId, target.path);
      setSelected(null);
      await load(parentPath(target.path));
    }, `Deleted ${target.name}`);
  };

  const upload = (files: File[], dir: string): void => {
    if (files.length === 0) return;
    const id = ++uploadIds;
    const name = files.length === 1 ? (files[0]?.name ?? "file") : `${files.length} files`;
    setUploads((list) => [...list, { id, name, dir, fraction: 0, error: null }]);
    const update = (patch: Partial<Upload>): void =>
      setUploads((list) => list.map((u) => (u.id === id ? { ...u, ...patch } : u)));
    uploadFiles(sessionId, dir, files, (fraction) => update({ fraction })).promise.then(
      () => {
        setUploads((list) => list.filter((u) => u.id !== id));
        setAnnouncement(`Uploaded ${name}`);
        if (dir) setExpanded((set) => new Set(set).add(dir));
        void load(dir);
      },
      (e: unknown) => update({ error: errorMessage(e) }),
    );
  };

  const onDrop = (event: DragEvent): void => {
    event.preventDefault();
    setDragging(false);
    upload(Array.from(event.dataTransfer.files), currentDir);
  };

  const onSaved = (entry: Entry): void => {
    setSelected(entry);
    void load(parentPath(entry.path));
  };

  return (
    <div
      className={dragging ? "files dragging" : "files"}
      onDragOver={(e) => {
        if (e.dataTransfer.types.includes("Files")) {
          e.preventDefault();
          setDragging(true);
        }
      }}
      onDragLeave={(e) => {
        if (e.currentTarget === e.target) setDragging(false);
      }}
      onDrop={onDrop}
    >
      <div className="files-toolbar" role="toolbar" aria-label="File actions">
        <button type="button" onClick={() => void newFile()}>
          New file
        </button>
        <button type="button" onClick={() => void newFolder()}>
          New folder
        </button>
        <button type="button" onClick={() => picker.current?.click()}>
          Upload
        </button>
        <input
          ref={picker}
          type="file"
          multiple
          hidden
          aria-label="Files to upload"
          onChange={(e) => {
            upload(Array.from(e.target.files ?? []), currentDir);
            e.target.value = "";
          }}
        />
        {selected?.type === "file" ? (
          <a className="button" href={downloadUrl(sessionId, selected.path)} download={selected.name}>
            Download
          </a>
        ) : (
          <a
            className="button"
            href={zipUrl(sessionId, selected?.path ?? "")}
            download={`${selected ? selected.name : "workspace"}.zip`}
          >
            Download folder (zip)
          </a>
        )}
        <button type="button" disabled={!selected} onClick={() => void rename()}>
          Rename
        </button>
        <button type="button" className="danger" disabled={!selected} onClick={() => void remove()}>
          Delete
        </button>
        <button type="button" onClick={refresh}>
          Refresh
        </button>
      </div>
      <p className="muted files-target">
        Uploads and new folders go to <code>/{currentDir}</code>. Drop files anywhere here to upload.
      </p>
      <ErrorText error={error} />
      <span className="visually-hidden" role="status">
        {announcement}
      </span>
      {uploads.length > 0 ? (
        <ul className="uploads" aria-label="Uploads">
          {uploads.map((u) => (
            <li key={u.id}>
              <span>
                {u.name} → /{u.dir}
              </span>
              {u.error ? (
                <>
                  <span className="form-error" role="alert">
                    {u.error}
                  </span>
                  <button
                    type="button"
                    onClick={() => setUploads((list) => list.filter((x) => x.id !== u.id))}
                  >
                    Dismiss
                  </button>
                </>
              ) : (
                <progress max={1} value={u.fraction} aria-label={`Uploading ${u.name}`} />
              )}
            </li>
          ))}
        </ul>
      ) : null}
      <div className="files-body">
        <nav className="files-tree" aria-label="Workspace files">
          <button
            type="button"
            className="tree-item root"
            aria-current={selected === null || undefined}
            onClick={() => setSelected(null)}
          >
            / (workspace)
          </button>
          <FileTree
            dir=""
            listings={listings}
            invalidNames={invalidNames}
            expanded={expanded}
            selected={selected?.path ?? null}
            onToggle={toggle}
            onSelect={setSelected}
          />
        </nav>
        <div className="files-view">
          {selected?.type === "file" ? (
            <FileViewer
              key={selected.path}
              sessionId={sessionId}
              entry={selected}
              onSaved={onSaved}
              changedOnDisk={diskChanges[selected.path] ?? 0}
            />
          ) : (
            <FolderView
              title={selected ? baseName(selected.path) : "/ (workspace)"}
              entries={listings[currentDir]}
              onOpen={(entry) => (entry.type === "dir" ? toggle(entry) : setSelected(entry))}
            />
          )}
        </div>
      </div>
      {dragging ? (
        <div className="drop-overlay" aria-hidden="true">
          Drop to upload to /{currentDir}
        </div>
      ) : null}
      {dialog}
    </div>
  );
}
