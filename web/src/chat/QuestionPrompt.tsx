import { useId, useState, type SubmitEvent } from "react";
import { errorMessage } from "../api/http";
import { ErrorText } from "../components/bits";
import "./chat-waiting.css";
import { composeAnswers, emptyPick, togglePick, typePick, type QuestionPick } from "./pending";
import type { QuestionAnswers, QuestionInfo, QuestionRequest } from "./types";

/**
 * The agent's `question` tool waits for this: each question's options (one, or several
 * where it allows), and an answer of one's own unless the question rules that out.
 */
export function QuestionPrompt({
  request,
  onAnswer,
  onDismiss,
}: {
  request: QuestionRequest;
  onAnswer: (answers: QuestionAnswers) => Promise<void>;
  onDismiss: () => Promise<void>;
}) {
  const [picks, setPicks] = useState<QuestionPick[]>(() => request.questions.map(() => emptyPick));
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const answers = composeAnswers(request.questions, picks);
  const title = request.questions.map((q) => q.header || q.question).join(", ");

  const run = (action: () => Promise<void>): void => {
    setSending(true);
    setError(null);
    // On success the prompt goes away; on failure it stays, to be tried again.
    action().then(
      () => setSending(false),
      (e: unknown) => {
        setSending(false);
        setError(errorMessage(e));
      },
    );
  };
  const submit = (event: SubmitEvent): void => {
    event.preventDefault();
    if (answers) run(() => onAnswer(answers));
  };
  const setPick = (index: number, pick: QuestionPick): void =>
    setPicks((list) => list.map((p, i) => (i === index ? pick : p)));

  return (
    <form className="question card" aria-label={`The agent asks: ${title}`} onSubmit={submit}>
      <div className="question-body">
        {request.questions.map((question, index) => (
          <QuestionField
            key={index}
            question={question}
            pick={picks[index] ?? emptyPick}
            onPick={(pick) => setPick(index, pick)}
          />
        ))}
      </div>
      <ErrorText error={error} />
      <div className="actions">
        <button type="submit" className="primary" disabled={!answers || sending}>
          Answer
        </button>
        <button type="button" disabled={sending} onClick={() => run(onDismiss)}>
          Dismiss
        </button>
      </div>
    </form>
  );
}

function QuestionField({
  question,
  pick,
  onPick,
}: {
  question: QuestionInfo;
  pick: QuestionPick;
  onPick: (pick: QuestionPick) => void;
}) {
  const name = useId();
  const multiple = question.multiple === true;
  return (
    <fieldset className="question-field">
      <legend>
        {question.header ? <span className="badge">{question.header}</span> : null}{" "}
        <span className="question-text">{question.question}</span>
      </legend>
      {multiple ? <p className="question-hint">Pick any that apply.</p> : null}
      <ul className="question-options">
        {question.options.map((option) => (
          <li key={option.label}>
            <label>
              <input
                type={multiple ? "checkbox" : "radio"}
                name={name}
                checked={pick.selected.includes(option.label)}
                onChange={() => onPick(togglePick(pick, option.label, multiple))}
              />
              <span>
                <span className="question-label">{option.label}</span>
                {option.description ? (
                  <span className="question-description">{option.description}</span>
                ) : null}
              </span>
            </label>
          </li>
        ))}
      </ul>
      {question.custom !== false ? (
        <input
          type="text"
          className="question-typed"
          aria-label={`Your own answer: ${question.header || question.question}`}
          placeholder={question.options.length ? "Or type your own answer" : "Your answer"}
          value={pick.typed}
          onChange={(e) => onPick(typePick(pick, e.target.value, multiple))}
        />
      ) : null}
    </fieldset>
  );
}
