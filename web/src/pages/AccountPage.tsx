import { useNavigate } from "react-router-dom";
import { ApiTokensSection } from "../account/ApiTokensSection";
import { PasswordSection } from "../account/PasswordSection";
import { useAuth, useUser } from "../auth/AuthContext";
import { useTitle } from "../lib/useTitle";

export function AccountPage() {
  useTitle("Account");
  const user = useUser();
  const { signOut } = useAuth();
  const navigate = useNavigate();
  return (
    <section className="page" aria-labelledby="account-title">
      <h1 id="account-title">Account</h1>
      <p>
        Signed in as <strong>{user.username}</strong> ({user.role}).
      </p>
      <PasswordSection />
      <ApiTokensSection />
      <section className="card" aria-labelledby="signout-title">
        <h2 id="signout-title">Sign out</h2>
        <p>Ends this browser’s sign-in. Other browsers and API tokens stay signed in.</p>
        <button
          type="button"
          onClick={() => void signOut().finally(() => navigate("/login", { replace: true }))}
        >
          Sign out
        </button>
      </section>
    </section>
  );
}
