import { useState, type SubmitEvent } from "react";
import { Link, Navigate, useNavigate } from "react-router-dom";
import { fetchMe, register } from "../api/auth";
import { ApiError, errorMessage } from "../api/http";
import { useAddingUsers, useAuth } from "../auth/AuthContext";
import { ErrorText } from "../components/bits";
import { ReasonText } from "../components/SingleUserNote";
import { useTitle } from "../lib/useTitle";

function registerError(error: unknown): string {
  if (error instanceof ApiError && (error.status === 404 || error.status === 405)) {
    return "Registration is not enabled on this server. Ask an administrator for an account.";
  }
  return errorMessage(error);
}

export function RegisterPage() {
  useTitle("Create an account");
  const { user, signIn, refresh } = useAuth();
  const adding = useAddingUsers();
  const navigate = useNavigate();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [invite, setInvite] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  if (user) return <Navigate to="/" replace />;
  if (adding.state === "unknown") {
    return (
      <p className="splash" role="status">
        Loading…
      </p>
    );
  }
  if (adding.state === "refused") return <RegistrationUnavailable reason={adding.reason} />;

  const submit = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    if (password !== confirm) {
      setError("The passwords do not match.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await register(username.trim(), password, invite.trim());
    } catch (e) {
      setError(registerError(e));
      setBusy(false);
      return;
    }
    try {
      // Registration may already have signed us in; otherwise sign in now.
      const signedIn = await fetchMe().then(
        () => true,
        () => false,
      );
      if (signedIn) await refresh();
      else await signIn(username.trim(), password);
      void navigate("/", { replace: true });
    } catch {
      void navigate("/login", { replace: true });
    }
  };

  return (
    <main id="main" className="auth-page">
      <form className="card auth-card" onSubmit={(e) => void submit(e)} aria-labelledby="register-title">
        <div className="auth-brand">
          <img src="/favicon.svg" alt="" width="40" height="40" />
          <h1 id="register-title">Create an account</h1>
        </div>
        <label className="field">
          <span>Invite code</span>
          <input
            name="invite"
            autoComplete="off"
            spellCheck={false}
            required
            value={invite}
            onChange={(e) => setInvite(e.target.value)}
            autoFocus
          />
        </label>
        <label className="field">
          <span>Username</span>
          <input
            name="username"
            autoComplete="username"
            autoCapitalize="none"
            spellCheck={false}
            required
            pattern="[a-z][a-z0-9_\-]{0,31}"
            title="Lower-case letters, digits, - and _; starting with a letter"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
        </label>
        <label className="field">
          <span>Password</span>
          <input
            name="password"
            type="password"
            autoComplete="new-password"
            minLength={8}
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <label className="field">
          <span>Repeat password</span>
          <input
            name="confirm"
            type="password"
            autoComplete="new-password"
            minLength={8}
            required
            value={confirm}
            onChange={(e) => setConfirm(e.target.value)}
          />
        </label>
        <ErrorText error={error} />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Creating…" : "Create account"}
        </button>
        <p className="muted">
          Already have an account? <Link to="/login">Sign in</Link>
        </p>
      </form>
    </main>
  );
}

/** Opened directly on a single-user server: say why there is nothing to fill in. */
function RegistrationUnavailable({ reason }: { reason: string }) {
  return (
    <main id="main" className="auth-page">
      <section className="card auth-card" aria-labelledby="register-title">
        <div className="auth-brand">
          <img src="/favicon.svg" alt="" width="40" height="40" />
          <h1 id="register-title">Registration is not available</h1>
        </div>
        <p role="note">
          <ReasonText text={reason} />
        </p>
        <p className="muted">
          Already have an account? <Link to="/login">Sign in</Link>
        </p>
      </section>
    </main>
  );
}
