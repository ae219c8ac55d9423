import { NavLink, Navigate, Route, Routes } from "react-router-dom";
import { AllSessionsPanel } from "../admin/AllSessionsPanel";
import { InvitesPanel } from "../admin/InvitesPanel";
import { UsersPanel } from "../admin/UsersPanel";
import { useAddingUsers, useUser } from "../auth/AuthContext";
import { SingleUserNote } from "../components/SingleUserNote";
import { useTitle } from "../lib/useTitle";

export function AdminPage() {
  useTitle("Admin");
  const user = useUser();
  const adding = useAddingUsers();
  if (user.role !== "admin") {
    // Hidden from the navigation too; the API refuses these calls (403) regardless.
    return (
      <section className="page">
        <h1>Administrators only</h1>
        <p>You need the administrator role to see this page.</p>
      </section>
    );
  }
  // Users and invites mean something only where there can be more than one user: a
  // single-user server has its one admin, and refuses new users and invites (409).
  const withUsers = adding.state === "allowed";
  return (
    <section className="page" aria-labelledby="admin-title">
      <h1 id="admin-title">Administration</h1>
      {adding.state === "unknown" ? null : (
        <>
          <nav className="subnav" aria-label="Administration">
            {withUsers ? <NavLink to="/admin/users">Users</NavLink> : null}
            {withUsers ? <NavLink to="/admin/invites">Invites</NavLink> : null}
            <NavLink to="/admin/sessions">All sessions</NavLink>
          </nav>
          {adding.state === "refused" ? (
            <SingleUserNote what="Managing users and invites" reason={adding.reason} />
          ) : null}
          <Routes>
            <Route index element={<Navigate to={withUsers ? "users" : "sessions"} replace />} />
            <Route
              path="users"
              element={withUsers ? <UsersPanel /> : <Navigate to="../sessions" replace />}
            />
            <Route
              path="invites"
              element={withUsers ? <InvitesPanel /> : <Navigate to="../sessions" replace />}
            />
            <Route path="sessions" element={<AllSessionsPanel />} />
          </Routes>
        </>
      )}
    </section>
  );
}
