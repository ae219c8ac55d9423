import { useState, type SubmitEvent } from "react";
import { Link, Navigate, useNavigate, useSearchParams } from "react-router-dom";
import { ApiError, errorMessage } from "../api/http";
import { useAddingUsers, useAuth } from "../auth/AuthContext";
import { AuthCard } from "../components/AuthCard";
import { ErrorText } from "../components/bits";
import { InputField } from "../components/Field";
import { safeNext } from "../lib/redirect";
import { useTitle } from "../lib/useTitle";

function loginError(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 401) return "Wrong username or password.";
    if (error.status === 429) return `Too many failed attempts. Try again in ${error.retryAfter ?? 60} s.`;
  }
  return errorMessage(error);
}

export function LoginPage() {
  useTitle("Sign in");
  const { user, signIn } = useAuth();
  // Single-user mode has no registration: no link to it.
  const canRegister = useAddingUsers().state === "allowed";
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const next = safeNext(params.get("next"));
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  if (user) return <Navigate to={next} replace />;

  const submit = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(username.trim(), password);
      void navigate(next, { replace: true });
    } catch (e) {
      setError(loginError(e));
      setBusy(false);
    }
  };

  return (
    <AuthCard title="Sign in to Oqto" onSubmit={(e) => void submit(e)}>
      <InputField
        label="Username"
        name="username"
        autoComplete="username"
        autoCapitalize="none"
        spellCheck={false}
        required
        value={username}
        onValue={setUsername}
        autoFocus
      />
      <InputField
        label="Password"
        name="password"
        type="password"
        autoComplete="current-password"
        required
        value={password}
        onValue={setPassword}
      />
      <ErrorText error={error} />
      <button type="submit" className="primary" disabled={busy}>
        {busy ? "Signing in…" : "Sign in"}
      </button>
      {canRegister ? (
        <p className="muted">
          Have an invite code? <Link to="/register">Create an account</Link>
        </p>
      ) : null}
    </AuthCard>
  );
}
