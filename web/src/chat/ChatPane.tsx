import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useSearchParams } from "react-router-dom";
import { errorMessage } from "../api/http";
import { ErrorText } from "../components/bits";
import { isBusy } from "./chatState";
import { Composer } from "./Composer";
import { ConversationList } from "./ConversationList";
import { MessageList } from "./MessageList";
import {
  lastModel,
  modelChoices,
  OpencodeClient,
  sameModel,
  type FileMention,
  type ModelChoice,
} from "./opencode";
import { PendingClient } from "./pendingApi";
import { PermissionPrompt } from "./PermissionPrompt";
import { QuestionPrompt } from "./QuestionPrompt";
import { TodoList } from "./TodoList";
import { QueuedPrompts, RetryNotice, type QueuedPrompt } from "./TurnNotices";
import type { ModelRef, OcSession } from "./types";
import { upsertOcSession, useChat } from "./useChat";

/** Chat with the session's opencode: conversations, streamed answers, tools, models. */
export function ChatPane({ sessionId }: { sessionId: string }) {
  const client = useMemo(() => new OpencodeClient(sessionId), [sessionId]);
  const pendingClient = useMemo(() => new PendingClient(sessionId, client), [sessionId, client]);
  // A link may name the conversation to open (the inbox does).
  const [params] = useSearchParams();
  const [picked, setPicked] = useState<string | null>(() => params.get("conversation"));
  const [conversations, setConversations] = useState<OcSession[] | null>(null);
  // Until the person picks one, the most recent conversation is open.
  const selected = picked ?? conversations?.[0]?.id ?? null;
  const chat = useChat(client, pendingClient, selected, setConversations);
  const { state } = chat;
  const [models, setModels] = useState<ModelChoice[]>([]);
  const [defaultModel, setDefaultModel] = useState<ModelRef | null>(null);
  // A model picked by hand holds for the conversation it was picked in.
  const [pickedModel, setPickedModel] = useState<{ conversation: string | null; model: ModelRef } | null>(
    null,
  );
  const [error, setError] = useState<string | null>(null);
  // Prompts sent while a turn runs: they go out, in order, when the agent is free, so a
  // prompt typed during a long turn or the model's retries is never lost.
  const [queued, setQueued] = useState<QueuedPrompt[]>([]);

  useEffect(() => {
    Promise.all([client.providers(), client.configuredModel().catch(() => null)]).then(
      ([list, configured]) => {
        const { choices, preferred } = modelChoices(list, configured);
        setModels(choices);
        setDefaultModel(preferred);
      },
      (e: unknown) => setError(`Could not list models: ${errorMessage(e)}`),
    );
  }, [client]);

  // The conversation's own model (the one it last used) if it is still offered, else the
  // configured one: never a provider's default that nobody chose.
  const used = state.sessionId === selected ? lastModel(state.messages) : null;
  const model =
    (pickedModel?.conversation === selected ? pickedModel.model : null) ??
    (used && models.some((m) => sameModel(m, used)) ? used : null) ??
    defaultModel;

  const newChat = async (): Promise<string> => {
    const created = await client.createSession();
    setConversations((list) => upsertOcSession(list, created));
    setPicked(created.id);
    return created.id;
  };

  // A prompt is in flight from when it is sent until opencode has recorded it (its user
  // message arrives): until then the turn's own busy status may not have come either.
  const userMessages =
    state.sessionId === selected ? state.messages.filter((m) => m.info.role === "user").length : 0;
  const [inFlight, setInFlight] = useState<{ conversation: string; before: number } | null>(null);
  const pending = inFlight !== null && inFlight.conversation === selected && userMessages <= inFlight.before;
  const busy = isBusy(state) || pending;

  const send = async (text: string, files: FileMention[] = []): Promise<boolean> => {
    setError(null);
    if (busy && selected) {
      setQueued((list) => [...list, { id: Date.now() + Math.random(), conversation: selected, text, files }]);
      return true;
    }
    try {
      // The first prompt of a workspace starts its first conversation.
      const id = selected ?? (await newChat());
      setInFlight({ conversation: id, before: id === selected ? userMessages : 0 });
      await client.prompt(id, text, model, files);
      return true;
    } catch (e) {
      setInFlight(null);
      setError(errorMessage(e));
      return false;
    }
  };

  // The oldest queued prompt goes out once the agent is free; one at a time.
  const next = queued.find((q) => q.conversation === selected && !q.failed);
  const ready = !busy && state.loaded && state.sessionId === selected;
  const sendingQueued = useRef<number | null>(null);
  useEffect(() => {
    if (!next || !ready || sendingQueued.current === next.id) return;
    sendingQueued.current = next.id;
    const before = userMessages;
    client.prompt(next.conversation, next.text, model, next.files).then(
      () => {
        sendingQueued.current = null;
        setInFlight({ conversation: next.conversation, before });
        setQueued((list) => list.filter((q) => q.id !== next.id));
      },
      (e: unknown) => {
        sendingQueued.current = null;
        setQueued((list) => list.map((q) => (q.id === next.id ? { ...q, failed: errorMessage(e) } : q)));
      },
    );
  }, [next, ready, client, model, userMessages]);

  const findFiles = useCallback((query: string) => client.findFiles(query), [client]);

  const stop = (): void => {
    if (selected) client.abort(selected).catch((e: unknown) => setError(errorMessage(e)));
  };

  return (
    <div className="chat">
      <ConversationList
        conversations={conversations}
        selected={selected}
        openMessages={state.sessionId === selected ? state.messages : []}
        stream={chat.stream}
        onSelect={setPicked}
        onNew={() => void newChat().catch((e: unknown) => setError(errorMessage(e)))}
      />
      <div className="chat-main">
        <MessageList state={state} />
        <TodoList todos={state.todos} />
        <span className="visually-hidden" role="status">
          {busy ? "The agent is working" : state.loaded ? "The agent is idle" : ""}
        </span>
        {state.retry ? <RetryNotice retry={state.retry} /> : null}
        <QueuedPrompts
          prompts={queued.filter((q) => q.conversation === selected)}
          onCancel={(id) => setQueued((list) => list.filter((q) => q.id !== id))}
          onRetry={(id) =>
            setQueued((list) => list.map((q) => (q.id === id ? { ...q, failed: undefined } : q)))
          }
        />
        {state.permissions.map((request) => (
          <PermissionPrompt
            key={request.id}
            request={request}
            onReply={(answer) =>
              pendingClient
                .replyPermission(request.id, answer)
                .then(() => chat.permissionAnswered(request.id))
            }
          />
        ))}
        {state.questions.map((request) => (
          <QuestionPrompt
            key={request.id}
            request={request}
            onAnswer={(answers) =>
              pendingClient.replyQuestion(request.id, answers).then(() => chat.questionAnswered(request.id))
            }
            onDismiss={() =>
              pendingClient.rejectQuestion(request.id).then(() => chat.questionAnswered(request.id))
            }
          />
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
        <Composer
          busy={busy}
          onSend={send}
          findFiles={findFiles}
          onStop={stop}
          models={models}
          model={model}
          onModel={(picked) => setPickedModel({ conversation: selected, model: picked })}
        />
      </div>
    </div>
  );
}
