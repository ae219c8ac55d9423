import { useEffect, useMemo, useState } from "react";
import { errorMessage } from "../api/http";
import { ErrorText } from "../components/bits";
import { isBusy } from "./chatState";
import { Composer } from "./Composer";
import { ConversationList } from "./ConversationList";
import { MessageList } from "./MessageList";
import { modelChoices, OpencodeClient, type ModelChoice } from "./opencode";
import { PermissionPrompt, type PermissionReply } from "./PermissionPrompt";
import type { ModelRef, OcSession, PermissionRequest } from "./types";
import { upsertOcSession, useChat } from "./useChat";

/** Chat with the session's opencode: conversations, streamed answers, tools, models. */
export function ChatPane({ sessionId }: { sessionId: string }) {
  const client = useMemo(() => new OpencodeClient(sessionId), [sessionId]);
  const [picked, setPicked] = useState<string | null>(null);
  const [conversations, setConversations] = useState<OcSession[] | null>(null);
  // Until the person picks one, the most recent conversation is open.
  const selected = picked ?? conversations?.[0]?.id ?? null;
  const chat = useChat(client, selected, setConversations);
  const { state } = chat;
  const [models, setModels] = useState<ModelChoice[]>([]);
  const [model, setModel] = useState<ModelRef | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    client.providers().then(
      (list) => {
        const { choices, preferred } = modelChoices(list);
        setModels(choices);
        setModel((current) => current ?? preferred);
      },
      (e: unknown) => setError(`Could not list models: ${errorMessage(e)}`),
    );
  }, [client]);

  const newChat = async (): Promise<string> => {
    const created = await client.createSession();
    setConversations((list) => upsertOcSession(list, created));
    setPicked(created.id);
    return created.id;
  };

  const send = async (text: string): Promise<boolean> => {
    setError(null);
    try {
      // The first prompt of a workspace starts its first conversation.
      const id = selected ?? (await newChat());
      await client.prompt(id, text, model);
      return true;
    } catch (e) {
      setError(errorMessage(e));
      return false;
    }
  };

  const stop = (): void => {
    if (selected) client.abort(selected).catch((e: unknown) => setError(errorMessage(e)));
  };

  const reply = (request: PermissionRequest, answer: PermissionReply): void => {
    client.replyPermission(request.id, answer).then(
      () => chat.permissionAnswered(request.id),
      (e: unknown) => setError(errorMessage(e)),
    );
  };

  const busy = isBusy(state);

  return (
    <div className="chat">
      <ConversationList
        conversations={conversations}
        selected={selected}
        stream={chat.stream}
        onSelect={setPicked}
        onNew={() => void newChat().catch((e: unknown) => setError(errorMessage(e)))}
      />
      <div className="chat-main">
        <MessageList state={state} />
        <span className="visually-hidden" role="status">
          {busy ? "The agent is working" : state.loaded ? "The agent is idle" : ""}
        </span>
        {state.permissions.map((request) => (
          <PermissionPrompt key={request.id} request={request} onReply={(answer) => reply(request, answer)} />
        ))}
        {state.error ? (
          <div className="banner error" role="alert">
            <span>{state.error}</span>
            <button type="button" onClick={chat.dismissError} aria-label="Dismiss error">
              ×
            </button>
          </div>
        ) : null}
        <ErrorText error={error ?? chat.loadError} />
        <Composer busy={busy} onSend={send} onStop={stop} models={models} model={model} onModel={setModel} />
      </div>
    </div>
  );
}
