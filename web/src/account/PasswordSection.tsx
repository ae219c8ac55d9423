import { useState, type SubmitEvent } from "react";
import { changePassword } from "../api/account";
import { errorMessage } from "../api/http";
import { ErrorText } from "../components/bits";
import { InputField, NewPasswordField } from "../components/Field";

export function PasswordSection() {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [repeat, setRepeat] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);

  const submit = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    setDone(false);
    if (next !== repeat) {
      setError("The new passwords do not match.");
      return;
    }
    setError(null);
    try {
      await changePassword(current, next);
      setCurrent("");
      setNext("");
      setRepeat("");
      setDone(true);
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  return (
    <section className="card" aria-labelledby="password-title">
      <h2 id="password-title">Change password</h2>
      <p className="muted">Signs out every other browser and revokes your API tokens.</p>
      <form className="stack" onSubmit={(e) => void submit(e)}>
        <InputField
          label="Current password"
          type="password"
          autoComplete="current-password"
          required
          value={current}
          onValue={setCurrent}
        />
        <NewPasswordField label="New password" value={next} onValue={setNext} />
        <NewPasswordField label="Repeat new password" value={repeat} onValue={setRepeat} />
        <ErrorText error={error} />
        <p role="status" className="success">
          {done ? "Password changed." : ""}
        </p>
        <button type="submit" className="primary">
          Change password
        </button>
      </form>
    </section>
  );
}
