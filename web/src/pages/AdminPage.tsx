import { NavLink, Navigate, Route, Routes } from "react-router-dom";
import { AllSessionsPanel } from "../admin/AllSessionsPanel";
import { InvitesPanel } from "../admin/InvitesPanel";
import { UsersPanel } from "../admin/UsersPanel";
import { useUser } from "../auth/AuthContext";
import { useTitle } from "../lib/useTitle";

export function AdminPage() {
  useTitle("Admin");
  const user = useUser();
  if (user.role !== "admin") {
    // Hidden from the navigation too; the API refuses these calls (403) regardless.
    return (
      <section className="page">
        <h1>Administrators only</h1>
        <p>You need the administrator role to see this page.</p>
      </section>
    );
  }
  return (
    <section className="page" aria-labelledby="admin-title">
      <h1 id="admin-title">Administration</h1>
      <nav className="subnav" aria-label="Administration">
        <NavLink to="/admin/users">Users</NavLink>
        <NavLink to="/admin/invites">Invites</NavLink>
        <NavLink to="/admin/sessions">All sessions</NavLink>
      </nav>
      <Routes>
        <Route index element={<Navigate to="users" replace />} />
        <Route path="users" element={<UsersPanel />} />
        <Route path="invites" element={<InvitesPanel />} />
        <Route path="sessions" element={<AllSessionsPanel />} />
      </Routes>
    </section>
  );
}
