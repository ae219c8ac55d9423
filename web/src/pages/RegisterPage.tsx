import { useState, type SubmitEvent } from "react";
import { Link, Navigate, useNavigate } from "react-router-dom";
import { fetchMe, register } from "../api/auth";
import { ApiError, errorMessage } from "../api/http";
import { useAddingUsers, useAuth } from "../auth/AuthContext";
import { AuthCard } from "../components/AuthCard";
import { ErrorText } from "../components/bits";
import { InputField, NewPasswordField, UsernameField } from "../components/Field";
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
    <AuthCard title="Create an account" onSubmit={(e) => void submit(e)}>
      <InputField
        label="Invite code"
        name="invite"
        autoComplete="off"
        spellCheck={false}
        required
        value={invite}
        onValue={setInvite}
        autoFocus
      />
      <UsernameField
        name="username"
        autoComplete="username"
        autoCapitalize="none"
        spellCheck={false}
        value={username}
        onValue={setUsername}
      />
      <NewPasswordField label="Password" name="password" value={password} onValue={setPassword} />
      <NewPasswordField label="Repeat password" name="confirm" value={confirm} onValue={setConfirm} />
      <ErrorText error={error} />
      <button type="submit" className="primary" disabled={busy}>
        {busy ? "Creating…" : "Create account"}
      </button>
      <SignInLink />
    </AuthCard>
  );
}

/** Opened directly on a single-user server: say why there is nothing to fill in. */
function RegistrationUnavailable({ reason }: { reason: string }) {
  return (
    <AuthCard title="Registration is not available">
      <p role="note">
        <ReasonText text={reason} />
      </p>
      <SignInLink />
    </AuthCard>
  );
}

function SignInLink() {
  return (
    <p className="muted">
      Already have an account? <Link to="/login">Sign in</Link>
    </p>
  );
}
