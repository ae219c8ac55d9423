import { useState, type SubmitEvent } from "react";
import { changePassword } from "../api/account";
import { errorMessage } from "../api/http";
import { ErrorText } from "../components/bits";

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
        <label className="field">
          <span>Current password</span>
          <input
            type="password"
            autoComplete="current-password"
            required
            value={current}
            onChange={(e) => setCurrent(e.target.value)}
          />
        </label>
        <label className="field">
          <span>New password</span>
          <input
            type="password"
            autoComplete="new-password"
            minLength={8}
            required
            value={next}
            onChange={(e) => setNext(e.target.value)}
          />
        </label>
        <label className="field">
          <span>Repeat new password</span>
          <input
            type="password"
            autoComplete="new-password"
            minLength={8}
            required
            value={repeat}
            onChange={(e) => setRepeat(e.target.value)}
          />
        </label>
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
