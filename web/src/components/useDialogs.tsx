import { useCallback, useState, type SubmitEvent, type ReactNode } from "react";
import { ErrorText } from "./bits";
import { InputField } from "./Field";
import { Modal } from "./Modal";

interface ConfirmOptions {
  title: string;
  message: ReactNode;
  confirmLabel: string;
  danger?: boolean;
}

interface PromptOptions {
  title: string;
  label: string;
  initial?: string;
  confirmLabel: string;
  type?: "text" | "password";
  validate?: (value: string) => string | null;
}

type Pending =
  | { kind: "confirm"; options: ConfirmOptions; resolve: (ok: boolean) => void }
  | { kind: "prompt"; options: PromptOptions; resolve: (value: string | null) => void };

/** `await confirm(...)` / `await prompt(...)` backed by one accessible modal. */
export function useDialogs(): {
  dialog: ReactNode;
  confirm: (options: ConfirmOptions) => Promise<boolean>;
  prompt: (options: PromptOptions) => Promise<string | null>;
} {
  const [pending, setPending] = useState<Pending | null>(null);

  const confirm = useCallback(
    (options: ConfirmOptions) =>
      new Promise<boolean>((resolve) => setPending({ kind: "confirm", options, resolve })),
    [],
  );
  const prompt = useCallback(
    (options: PromptOptions) =>
      new Promise<string | null>((resolve) => setPending({ kind: "prompt", options, resolve })),
    [],
  );

  const finish = (result: boolean | string | null): void => {
    if (!pending) return;
    if (pending.kind === "confirm") pending.resolve(result === true);
    else pending.resolve(typeof result === "string" ? result : null);
    setPending(null);
  };

  const dialog = (
    <Modal open={pending !== null} title={pending?.options.title ?? ""} onClose={() => finish(null)}>
      {pending?.kind === "confirm" ? (
        <ConfirmBody options={pending.options} onDone={(ok) => finish(ok)} />
      ) : pending?.kind === "prompt" ? (
        <PromptBody options={pending.options} onDone={(value) => finish(value)} />
      ) : null}
    </Modal>
  );
  return { dialog, confirm, prompt };
}

function ConfirmBody({ options, onDone }: { options: ConfirmOptions; onDone: (ok: boolean) => void }) {
  return (
    <>
      <div className="modal-body">{options.message}</div>
      <div className="modal-actions">
        <button type="button" onClick={() => onDone(false)}>
          Cancel
        </button>
        <button
          type="button"
          className={options.danger ? "danger" : "primary"}
          onClick={() => onDone(true)}
          autoFocus
        >
          {options.confirmLabel}
        </button>
      </div>
    </>
  );
}

function PromptBody({ options, onDone }: { options: PromptOptions; onDone: (value: string | null) => void }) {
  const [value, setValue] = useState(options.initial ?? "");
  const [problem, setProblem] = useState<string | null>(null);
  const submit = (event: SubmitEvent): void => {
    event.preventDefault();
    const issue = options.validate?.(value) ?? null;
    if (issue) {
      setProblem(issue);
      return;
    }
    onDone(value);
  };
  return (
    <form onSubmit={submit}>
      <InputField
        label={options.label}
        type={options.type ?? "text"}
        value={value}
        onValue={setValue}
        autoFocus
        aria-invalid={problem ? true : undefined}
        autoComplete={options.type === "password" ? "new-password" : "off"}
      />
      <ErrorText error={problem} />
      <div className="modal-actions">
        <button type="button" onClick={() => onDone(null)}>
          Cancel
        </button>
        <button type="submit" className="primary">
          {options.confirmLabel}
        </button>
      </div>
    </form>
  );
}
