/** opencode's server API, reached through the control plane's agent proxy. */
import { requestJson } from "../api/http";
import type { SseMessage } from "../api/sse";
import type { Message, ModelRef, OcEvent, OcSession, ProviderList, RunStatus } from "./types";

export function agentBase(sessionId: string): string {
  return `/api/sessions/${encodeURIComponent(sessionId)}/agent`;
}

export class OpencodeClient {
  private readonly base: string;
  private directoryPromise: Promise<string> | null = null;

  constructor(sessionId: string) {
    this.base = agentBase(sessionId);
  }

  get eventsUrl(): string {
    return `${this.base}/event`;
  }

  private path(template: string, id?: string): string {
    return `${this.base}${template.replace("{id}", encodeURIComponent(id ?? ""))}`;
  }

  /** The workspace directory opencode runs in (asked once). */
  directory(): Promise<string> {
    this.directoryPromise ??= requestJson<{ directory: string }>(this.path("/path")).then(
      (body) => body.directory,
      (error: unknown) => {
        this.directoryPromise = null;
        throw error;
      },
    );
    return this.directoryPromise;
  }

  /**
   * This workspace's top-level conversations. opencode keeps one store per account, shared
   * by every workspace outside a git repository, so the list is narrowed to ours.
   */
  async listSessions(): Promise<OcSession[]> {
    const directory = await this.directory();
    const query = new URLSearchParams({ directory, roots: "true" });
    const list = await requestJson<OcSession[]>(`${this.path("/session")}?${query.toString()}`);
    return list.filter((s) => !s.parentID && (s.directory === undefined || s.directory === directory));
  }

  createSession(): Promise<OcSession> {
    return requestJson<OcSession>(this.path("/session"), { method: "POST", json: {} });
  }

  messages(id: string): Promise<Message[]> {
    return requestJson<Message[]>(this.path("/session/{id}/message", id));
  }

  async statuses(): Promise<Record<string, RunStatus>> {
    const raw = await requestJson<Record<string, { type: RunStatus }>>(this.path("/session/status"));
    return Object.fromEntries(Object.entries(raw).map(([key, value]) => [key, value.type]));
  }

  /** Returns at once; the answer arrives on the event stream. */
  async prompt(id: string, text: string, model: ModelRef | null, files: FileMention[] = []): Promise<void> {
    const parts =
      files.length > 0 ? promptParts(text, files, await this.directory()) : [{ type: "text", text }];
    return requestJson<undefined>(this.path("/session/{id}/prompt_async", id), {
      method: "POST",
      json: { parts, ...(model ? { model } : {}) },
    });
  }

  /** Workspace files whose path matches `query` (opencode's fuzzy file search). */
  findFiles(query: string, limit = 20): Promise<string[]> {
    const params = new URLSearchParams({ query, dirs: "false", limit: String(limit) });
    return requestJson<string[]>(`${this.path("/find/file")}?${params.toString()}`);
  }

  abort(id: string): Promise<unknown> {
    return requestJson<unknown>(this.path("/session/{id}/abort", id), { method: "POST" });
  }

  /** The model the workspace's opencode config names (`"model": "provider/model"`). */
  async configuredModel(): Promise<ModelRef | null> {
    const config = await requestJson<{ model?: unknown }>(this.path("/config"));
    return typeof config.model === "string" ? parseModelRef(config.model) : null;
  }

  providers(): Promise<ProviderList> {
    return requestJson<ProviderList>(this.path("/config/providers"));
  }
}

/** A workspace file the prompt mentions (`@path`): workspace-relative. */
export interface FileMention {
  path: string;
}

type PromptPart =
  | { type: "text"; text: string }
  | {
      type: "file";
      mime: string;
      filename: string;
      url: string;
      source: { type: "file"; path: string; text: { value: string; start: number; end: number } };
    };

/** A `file://` URL for a path beneath the workspace directory. */
export function fileUrl(directory: string, path: string): string {
  const absolute = `${directory.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`;
  return `file://${absolute.split("/").map(encodeURIComponent).join("/")}`;
}

/**
 * The prompt as opencode's own clients send it: the text, then one `file` part per
 * mentioned file (opencode reads the file and gives its content to the model), whose
 * `source.text` says where the `@path` stands in the text.
 */
export function promptParts(text: string, files: FileMention[], directory: string): PromptPart[] {
  const seen = new Set<string>();
  const parts: PromptPart[] = [{ type: "text", text }];
  for (const { path } of files) {
    if (seen.has(path)) continue;
    seen.add(path);
    const value = `@${path}`;
    const found = text.indexOf(value);
    const start = found < 0 ? 0 : found;
    parts.push({
      type: "file",
      mime: "text/plain",
      filename: path,
      url: fileUrl(directory, path),
      source: {
        type: "file",
        path,
        text: { value, start, end: found < 0 ? 0 : start + value.length },
      },
    });
  }
  return parts;
}

export type ModelChoice = ModelRef & { label: string };

export function parseModelRef(ref: string): ModelRef | null {
  const slash = ref.indexOf("/");
  if (slash <= 0 || slash === ref.length - 1) return null;
  return { providerID: ref.slice(0, slash), modelID: ref.slice(slash + 1) };
}

export const sameModel = (a: ModelRef, b: ModelRef): boolean =>
  a.providerID === b.providerID && a.modelID === b.modelID;

/**
 * Every model opencode offers, and the one a new conversation starts with: the one the
 * config names, else the first of opencode's per-provider defaults that is offered (that
 * map is not a preference: a public cloud model may come first).
 */
export function modelChoices(
  list: ProviderList,
  configured: ModelRef | null = null,
): { choices: ModelChoice[]; preferred: ModelRef | null } {
  const choices = list.providers.flatMap((provider) =>
    Object.values(provider.models).map((model) => ({
      providerID: provider.id,
      modelID: model.id,
      label: `${provider.name} · ${model.name}`,
    })),
  );
  const defaults = Object.entries(list.default).map(([providerID, modelID]) => ({ providerID, modelID }));
  const offered = (m: ModelRef | null | undefined): m is ModelRef =>
    !!m && choices.some((c) => sameModel(c, m));
  const found = [configured, ...defaults, choices[0]].find(offered);
  return { choices, preferred: found ? { providerID: found.providerID, modelID: found.modelID } : null };
}

/** The model a conversation last used (its newest message that names one). */
export function lastModel(messages: Message[]): ModelRef | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    const info = messages[i]?.info;
    if (!info) continue;
    if (info.providerID && info.modelID) return { providerID: info.providerID, modelID: info.modelID };
    if (info.model) return info.model;
  }
  return null;
}

/** One message of opencode's `/event` stream, or null if it is not one. */
export function parseOcEvent(message: SseMessage): OcEvent | null {
  try {
    const event = JSON.parse(message.data) as Partial<OcEvent>;
    if (typeof event.type !== "string") return null;
    return { type: event.type, properties: event.properties ?? {} };
  } catch {
    return null;
  }
}

/**
 * The workspace-relative path of a file an event says changed (`file.edited` from the
 * agent's own edits, `file.watcher.updated` from opencode's watcher), else null.
 */
export function changedFile(event: OcEvent, directory: string): string | null {
  if (event.type !== "file.edited" && event.type !== "file.watcher.updated") return null;
  const file = event.properties.file;
  if (typeof file !== "string" || !file) return null;
  const root = directory.endsWith("/") ? directory : `${directory}/`;
  if (file.startsWith(root)) return file.slice(root.length);
  return file.startsWith("/") ? null : file;
}
