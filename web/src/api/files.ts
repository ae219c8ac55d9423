/** The session's file server, through `/api/sessions/{id}/files/...`. */
import { currentCsrfHeaders } from "./csrf";
import { ApiError, errorFrom, notifyUnauthorized, request, requestJson } from "./http";

export type EntryType = "file" | "dir" | "symlink" | "other";

export interface Entry {
  name: string;
  path: string;
  type: EntryType;
  size: number;
  mtime: number;
  etag?: string;
  children?: Entry[];
}

export interface TreeListing {
  path: string;
  entries: Entry[];
  truncated: boolean;
  /** Entries left out because their names are not valid UTF-8 (no path can name them). */
  invalid_names: number;
}

export interface FileContent {
  text: string | null; // null: not text (binary)
  contentType: string;
  etag: string | null;
  size: number;
}

export function filesBase(sessionId: string): string {
  return `/api/sessions/${encodeURIComponent(sessionId)}/files`;
}

function query(params: Record<string, string | string[]>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const item of Array.isArray(value) ? value : [value]) search.append(key, item);
  }
  return search.toString();
}

export function fileUrl(sessionId: string, route: string, params: Record<string, string | string[]>): string {
  return `${filesBase(sessionId)}/${route}?${query(params)}`;
}

export const listDir = (sessionId: string, path: string): Promise<TreeListing> =>
  requestJson<TreeListing>(fileUrl(sessionId, "tree", { path, depth: "1" }));

export async function readFile(sessionId: string, path: string): Promise<FileContent> {
  const response = await request(fileUrl(sessionId, "file", { path }), {
    headers: { "Cache-Control": "no-cache" },
  });
  const contentType = response.headers.get("Content-Type") ?? "";
  const etag = response.headers.get("ETag");
  // The file server only says text/plain for valid UTF-8; anything else stays binary.
  if (!contentType.startsWith("text/")) {
    void response.body?.cancel();
    const size = Number(response.headers.get("Content-Length") ?? "0");
    return { text: null, contentType, etag, size };
  }
  const text = await response.text();
  return { text, contentType, etag, size: text.length };
}

export class ConflictError extends Error {
  constructor() {
    super("the file changed on disk since it was opened");
    this.name = "ConflictError";
  }
}

/** Save; with `etag`, only if the file is still the version that was opened. */
export async function writeFile(
  sessionId: string,
  path: string,
  text: string,
  etag: string | null,
): Promise<Entry> {
  const headers: Record<string, string> = { "Content-Type": "text/plain; charset=utf-8" };
  if (etag) headers["If-Match"] = etag;
  try {
    const response = await request(fileUrl(sessionId, "file", { path }), {
      method: "PUT",
      body: text,
      headers,
    });
    return (await response.json()) as Entry;
  } catch (error) {
    if (error instanceof ApiError && error.status === 412) throw new ConflictError();
    throw error;
  }
}

export const makeDir = (sessionId: string, path: string): Promise<Entry> =>
  requestJson<Entry>(fileUrl(sessionId, "mkdir", { path }), { method: "PUT" });

export const renamePath = (sessionId: string, oldPath: string, newPath: string): Promise<Entry> =>
  requestJson<Entry>(fileUrl(sessionId, "rename", { old_path: oldPath, new_path: newPath }), {
    method: "POST",
  });

export const deletePath = (sessionId: string, path: string): Promise<void> =>
  requestJson<undefined>(fileUrl(sessionId, "file", { path }), { method: "DELETE" });

export const downloadUrl = (sessionId: string, path: string): string =>
  fileUrl(sessionId, "download", { path });

export const zipUrl = (sessionId: string, path: string): string =>
  fileUrl(sessionId, "download-zip", { paths: path });

export const previewUrl = (sessionId: string, path: string): string => fileUrl(sessionId, "file", { path });

export interface UploadHandle {
  promise: Promise<Entry[]>;
  abort(): void;
}

/**
 * Upload into directory `dir`. XMLHttpRequest, not fetch: only it reports upload progress.
 * Same credentials and CSRF header as every other call.
 */
export function uploadFiles(
  sessionId: string,
  dir: string,
  files: File[],
  onProgress: (fraction: number) => void,
): UploadHandle {
  const xhr = new XMLHttpRequest();
  const promise = new Promise<Entry[]>((resolve, reject) => {
    const form = new FormData();
    for (const file of files) form.append("file", file, file.name);
    xhr.open("POST", fileUrl(sessionId, "file", { path: dir }));
    xhr.withCredentials = true;
    for (const [name, value] of Object.entries(currentCsrfHeaders("POST"))) {
      xhr.setRequestHeader(name, value);
    }
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      const response = new Response(xhr.responseText || null, {
        status: xhr.status,
        headers: { "Content-Type": xhr.getResponseHeader("Content-Type") ?? "application/json" },
      });
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        void response.json().then((body: { entries: Entry[] }) => resolve(body.entries), reject);
        return;
      }
      if (xhr.status === 401) notifyUnauthorized();
      void errorFrom(response).then(reject, reject);
    };
    xhr.onerror = () => reject(new ApiError(0, "network_error", "upload failed: network error"));
    xhr.onabort = () => reject(new ApiError(0, "aborted", "upload cancelled"));
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}
