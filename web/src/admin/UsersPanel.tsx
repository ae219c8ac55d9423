import { useState, type SubmitEvent } from "react";
import {
  createUser,
  deleteUser,
  disableUser,
  enableUser,
  listUsers,
  resetPassword,
  runnerHealth,
} from "../api/admin";
import { errorMessage } from "../api/http";
import type { AdminUser, Role, RunnerHealth } from "../api/types";
import { useUser } from "../auth/AuthContext";
import { ErrorText } from "../components/bits";
import { DataTable } from "../components/DataTable";
import { MIN_PASSWORD_LENGTH, NewPasswordField, RoleField, UsernameField } from "../components/Field";
import { useDialogs } from "../components/useDialogs";
import { formatDate } from "../lib/format";
import { useLoader } from "./useLoader";

const passwordProblem = (value: string): string | null =>
  value.length < MIN_PASSWORD_LENGTH ? `at least ${MIN_PASSWORD_LENGTH} characters` : null;

export function UsersPanel() {
  const me = useUser();
  const { data: users, error: loadError, reload } = useLoader(listUsers);
  const { dialog, confirm, prompt } = useDialogs();
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState("");
  const [health, setHealth] = useState<Record<string, RunnerHealth | "checking">>({});
  const [form, setForm] = useState({ username: "", password: "", role: "user" as Role });

  const act = async (action: () => Promise<unknown>, done: string): Promise<void> => {
    setError(null);
    try {
      await action();
      setNote(done);
      reload();
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  const create = (event: SubmitEvent): void => {
    event.preventDefault();
    void act(async () => {
      await createUser(form.username.trim(), form.password, form.role);
      setForm({ username: "", password: "", role: "user" });
    }, `Created user ${form.username.trim()}`);
  };

  const reset = async (user: AdminUser): Promise<void> => {
    const password = await prompt({
      title: `New password for ${user.username}`,
      label: "New password",
      type: "password",
      confirmLabel: "Set password",
      validate: passwordProblem,
    });
    if (password !== null)
      await act(() => resetPassword(user.id, password), `Password of ${user.username} changed`);
  };

  const remove = async (user: AdminUser): Promise<void> => {
    const ok = await confirm({
      title: `Delete ${user.username}`,
      message: (
        <p>
          Delete user <strong>{user.username}</strong>? Their sessions are stopped and removed; workspace
          files stay on disk.
        </p>
      ),
      confirmLabel: "Delete user",
      danger: true,
    });
    if (ok) await act(() => deleteUser(user.id), `Deleted ${user.username}`);
  };

  const check = (user: AdminUser): void => {
    setHealth((all) => ({ ...all, [user.id]: "checking" }));
    runnerHealth(user.id).then(
      (result) => setHealth((all) => ({ ...all, [user.id]: result })),
      (e: unknown) =>
        setHealth((all) => ({ ...all, [user.id]: { status: "unavailable", detail: errorMessage(e) } })),
    );
  };

  return (
    <div className="panel">
      <form className="card inline-form" onSubmit={create} aria-label="Create user">
        <UsernameField
          autoComplete="off"
          value={form.username}
          onValue={(username) => setForm({ ...form, username })}
        />
        <NewPasswordField
          label="Password"
          value={form.password}
          onValue={(password) => setForm({ ...form, password })}
        />
        <RoleField value={form.role} onChange={(role) => setForm({ ...form, role })} />
        <button type="submit" className="primary">
          Create user
        </button>
      </form>
      <ErrorText error={error ?? loadError} />
      <p className="success" role="status">
        {note}
      </p>
      <DataTable label="Users" columns={["User", "Role", "State", "Created", "Runner", "Actions"]}>
        {(users ?? []).map((user) => {
          const h = health[user.id];
          return (
            <tr key={user.id} data-username={user.username}>
              <th scope="row">{user.username}</th>
              <td>{user.role}</td>
              <td>{user.disabled ? <span className="badge status-failed">Disabled</span> : "Active"}</td>
              <td>{formatDate(user.created_at)}</td>
              <td>
                {h === undefined ? (
                  <button
                    type="button"
                    onClick={() => check(user)}
                    aria-label={`Check runner of ${user.username}`}
                  >
                    Check
                  </button>
                ) : h === "checking" ? (
                  "Checking…"
                ) : (
                  <span className={`runner runner-${h.status}`} title={h.detail}>
                    {h.status} <span className="muted">{h.detail}</span>
                  </span>
                )}
              </td>
              <td>
                {user.id === me.id ? (
                  <span className="muted">you</span>
                ) : (
                  <UserActions
                    user={user}
                    onToggle={() =>
                      void act(
                        () => (user.disabled ? enableUser(user.id) : disableUser(user.id)),
                        `${user.disabled ? "Enabled" : "Disabled"} ${user.username}`,
                      )
                    }
                    onReset={() => void reset(user)}
                    onDelete={() => void remove(user)}
                  />
                )}
              </td>
            </tr>
          );
        })}
      </DataTable>
      {dialog}
    </div>
  );
}

interface UserActionsProps {
  user: AdminUser;
  onToggle: () => void;
  onReset: () => void;
  onDelete: () => void;
}

function UserActions({ user, onToggle, onReset, onDelete }: UserActionsProps) {
  const verb = user.disabled ? "Enable" : "Disable";
  return (
    <div className="actions">
      <button type="button" onClick={onToggle} aria-label={`${verb} ${user.username}`}>
        {verb}
      </button>
      <button type="button" onClick={onReset} aria-label={`Reset password of ${user.username}`}>
        Reset password
      </button>
      <button type="button" className="danger" onClick={onDelete} aria-label={`Delete ${user.username}`}>
        Delete
      </button>
    </div>
  );
}
