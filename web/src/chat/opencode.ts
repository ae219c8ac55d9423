/** opencode's server API, reached through the control plane's agent proxy. */
import { requestJson } from "../api/http";
import type { Message, ModelRef, OcSession, ProviderList, RunStatus } from "./types";

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
  prompt(id: string, text: string, model: ModelRef | null): Promise<void> {
    return requestJson<undefined>(this.path("/session/{id}/prompt_async", id), {
      method: "POST",
      json: { parts: [{ type: "text", text }], ...(model ? { model } : {}) },
    });
  }

  abort(id: string): Promise<unknown> {
    return requestJson<unknown>(this.path("/session/{id}/abort", id), { method: "POST" });
  }

  providers(): Promise<ProviderList> {
    return requestJson<ProviderList>(this.path("/config/providers"));
  }

  replyPermission(requestId: string, reply: "once" | "always" | "reject"): Promise<unknown> {
    return requestJson<unknown>(this.path("/permission/{id}/reply", requestId), {
      method: "POST",
      json: { reply },
    });
  }
}

export type ModelChoice = ModelRef & { label: string };

/** Every model opencode offers, and the one it would pick itself. */
export function modelChoices(list: ProviderList): { choices: ModelChoice[]; preferred: ModelRef | null } {
  const choices = list.providers.flatMap((provider) =>
    Object.values(provider.models).map((model) => ({
      providerID: provider.id,
      modelID: model.id,
      label: `${provider.name} · ${model.name}`,
    })),
  );
  let preferred: ModelRef | null = null;
  for (const [providerID, modelID] of Object.entries(list.default)) {
    if (choices.some((c) => c.providerID === providerID && c.modelID === modelID)) {
      preferred = { providerID, modelID };
      break;
    }
  }
  const first = choices[0];
  return {
    choices,
    preferred: preferred ?? (first ? { providerID: first.providerID, modelID: first.modelID } : null),
  };
}
