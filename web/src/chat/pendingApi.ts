/** opencode's routes for what the agent waits on, and its todo lists. */
import { requestJson } from "../api/http";
import { agentBase, OpencodeClient } from "./opencode";
import { parseList, parsePermission, parseQuestion, parseTodos } from "./pending";
import type { PermissionReply, PermissionRequest, QuestionAnswers, QuestionRequest, Todo } from "./types";

/**
 * One session's opencode. Every call names the workspace directory: opencode runs one
 * instance per directory, each with its own pending requests, and a reply sent to
 * another instance answers nothing, which leaves the turn waiting forever.
 */
export class PendingClient {
  private readonly base: string;
  private readonly agent: OpencodeClient;

  /** `agent`: the session's client, whose directory is already known, where there is one. */
  constructor(sessionId: string, agent?: OpencodeClient) {
    this.base = agentBase(sessionId);
    this.agent = agent ?? new OpencodeClient(sessionId);
  }

  private async url(template: string, id = ""): Promise<string> {
    const directory = await this.agent.directory();
    const path = template.replace("{id}", encodeURIComponent(id));
    return `${this.base}${path}?${new URLSearchParams({ directory }).toString()}`;
  }

  async permissions(): Promise<PermissionRequest[]> {
    return parseList(await requestJson<unknown>(await this.url("/permission")), parsePermission);
  }

  async questions(): Promise<QuestionRequest[]> {
    return parseList(await requestJson<unknown>(await this.url("/question")), parseQuestion);
  }

  /** The todo list of one conversation (an opencode session). */
  async todos(conversation: string): Promise<Todo[]> {
    return parseTodos(await requestJson<unknown>(await this.url("/session/{id}/todo", conversation)));
  }

  async replyPermission(id: string, reply: PermissionReply): Promise<void> {
    await requestJson<unknown>(await this.url("/permission/{id}/reply", id), {
      method: "POST",
      json: { reply },
    });
  }

  async replyQuestion(id: string, answers: QuestionAnswers): Promise<void> {
    await requestJson<unknown>(await this.url("/question/{id}/reply", id), {
      method: "POST",
      json: { answers },
    });
  }

  /** Dismiss a question: the tool call fails and the agent goes on without an answer. */
  async rejectQuestion(id: string): Promise<void> {
    await requestJson<unknown>(await this.url("/question/{id}/reject", id), { method: "POST" });
  }
}
