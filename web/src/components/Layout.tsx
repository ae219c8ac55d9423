import { useState, type MouseEvent, type ReactNode } from "react";
import { NavLink, useNavigate } from "react-router-dom";
import { useAuth, useUser } from "../auth/AuthContext";
import { InboxLink } from "../inbox/InboxLink";
import { ThemeToggle } from "./ThemeToggle";

/** The signed-in frame: a sidebar on wide screens, a top bar with a menu on phones. */
export function Layout({ children }: { children: ReactNode }) {
  const user = useUser();
  const { signOut } = useAuth();
  const navigate = useNavigate();
  const [menuOpen, setMenuOpen] = useState(false);

  // Following a link closes the phone menu.
  const closeOnLink = (event: MouseEvent): void => {
    if (event.target instanceof HTMLAnchorElement) setMenuOpen(false);
  };

  const doSignOut = (): void => {
    void signOut().finally(() => navigate("/login", { replace: true }));
  };

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="sidebar">
        <div className="sidebar-top">
          <NavLink to="/" className="brand" aria-label="Oqto home">
            <img src="/favicon.svg" alt="" width="28" height="28" />
            <span>Oqto</span>
          </NavLink>
          <button
            type="button"
            className="menu-button"
            aria-expanded={menuOpen}
            aria-controls="main-nav"
            onClick={() => setMenuOpen((open) => !open)}
          >
            Menu
          </button>
        </div>
        <nav id="main-nav" aria-label="Main" className={menuOpen ? "open" : undefined} onClick={closeOnLink}>
          <ul>
            <li>
              <NavLink to="/" end>
                Sessions
              </NavLink>
            </li>
            <li>
              <InboxLink />
            </li>
            {user.role === "admin" ? (
              <li>
                <NavLink to="/admin">Admin</NavLink>
              </li>
            ) : null}
            <li>
              <NavLink to="/account">Account</NavLink>
            </li>
          </ul>
          <div className="sidebar-footer">
            <ThemeToggle />
            <p className="whoami">
              Signed in as <strong>{user.username}</strong>
            </p>
            <button type="button" onClick={doSignOut}>
              Sign out
            </button>
          </div>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
