import { useState, type SubmitEvent } from "react";
import { createInvite, listInvites, revokeInvite } from "../api/admin";
import { errorMessage } from "../api/http";
import type { Invite, Role } from "../api/types";
import { useAddingUsers } from "../auth/AuthContext";
import { ErrorText, RoleField, SecretOnce } from "../components/bits";
import { SingleUserNote } from "../components/SingleUserNote";
import { useDialogs } from "../components/useDialogs";
import { formatDate } from "../lib/format";
import { useLoader } from "./useLoader";

const EXPIRY: { label: string; hours: number | null }[] = [
  { label: "1 hour", hours: 1 },
  { label: "1 day", hours: 24 },
  { label: "7 days", hours: 168 },
  { label: "30 days", hours: 720 },
  { label: "Never", hours: null },
];

function inviteState(invite: Invite): string {
  if (invite.revoked_at) return "Revoked";
  if (invite.expires_at && Date.parse(invite.expires_at) <= Date.now()) return "Expired";
  if (invite.uses >= invite.max_uses) return "Used up";
  return "Active";
}

export function InvitesPanel() {
  const { data: invites, error: loadError, reload } = useLoader(listInvites);
  // Single-user mode: no new invites (they would register users); old ones can be revoked.
  const adding = useAddingUsers();
  const { dialog, confirm } = useDialogs();
  const [error, setError] = useState<string | null>(null);
  const [code, setCode] = useState<string | null>(null);
  const [note, setNote] = useState("");
  const [form, setForm] = useState({ uses: "1", expiry: "168", role: "user" as Role, note: "" });

  const create = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    setError(null);
    try {
      const created = await createInvite({
        max_uses: Number(form.uses),
        expires_in_hours: form.expiry === "never" ? null : Number(form.expiry),
        role: form.role,
        note: form.note.trim() || null,
      });
      setCode(created.code);
      setForm({ ...form, note: "" });
      reload();
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  const revoke = async (invite: Invite): Promise<void> => {
    const ok = await confirm({
      title: "Revoke invite",
      message: (
        <p>
          Revoke invite <code>{invite.prefix}…</code>? Nobody can register with it afterwards.
        </p>
      ),
      confirmLabel: "Revoke",
      danger: true,
    });
    if (!ok) return;
    try {
      await revokeInvite(invite.id);
      setNote(`Revoked invite ${invite.prefix}`);
      reload();
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  return (
    <div className="panel">
      {adding.state === "refused" ? (
        <SingleUserNote what="Creating invites" reason={adding.reason} />
      ) : adding.state === "allowed" ? (
        <form className="card inline-form" onSubmit={(e) => void create(e)} aria-label="Create invite">
          <label className="field">
            <span>Uses</span>
            <input
              type="number"
              min={1}
              max={1000}
              required
              value={form.uses}
              onChange={(e) => setForm({ ...form, uses: e.target.value })}
            />
          </label>
          <label className="field">
            <span>Expires after</span>
            <select value={form.expiry} onChange={(e) => setForm({ ...form, expiry: e.target.value })}>
              {EXPIRY.map((option) => (
                <option key={option.label} value={option.hours === null ? "never" : String(option.hours)}>
                  {option.label}
                </option>
              ))}
            </select>
          </label>
          <RoleField value={form.role} onChange={(role) => setForm({ ...form, role })} />
          <label className="field grow">
            <span>Note</span>
            <input
              maxLength={256}
              value={form.note}
              onChange={(e) => setForm({ ...form, note: e.target.value })}
              placeholder="who it is for"
            />
          </label>
          <button type="submit" className="primary">
            Create invite
          </button>
        </form>
      ) : null}
      {code ? <SecretOnce title="Invite code" secret={code} onDone={() => setCode(null)} /> : null}
      <ErrorText error={error ?? loadError} />
      <p className="success" role="status">
        {note}
      </p>
      <div className="table-wrap">
        <table aria-label="Invites">
          <thead>
            <tr>
              <th scope="col">Code</th>
              <th scope="col">Role</th>
              <th scope="col">Uses</th>
              <th scope="col">Expires</th>
              <th scope="col">State</th>
              <th scope="col">Note</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {(invites ?? []).map((invite) => {
              const state = inviteState(invite);
              return (
                <tr key={invite.id} data-invite-prefix={invite.prefix}>
                  <th scope="row">
                    <code>{invite.prefix}…</code>
                  </th>
                  <td>{invite.role}</td>
                  <td>
                    {invite.uses} / {invite.max_uses}
                  </td>
                  <td>{invite.expires_at ? formatDate(invite.expires_at) : "never"}</td>
                  <td className="invite-state">{state}</td>
                  <td>{invite.note ?? ""}</td>
                  <td>
                    {state === "Active" ? (
                      <button
                        type="button"
                        className="danger"
                        onClick={() => void revoke(invite)}
                        aria-label={`Revoke invite ${invite.prefix}`}
                      >
                        Revoke
                      </button>
                    ) : null}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {dialog}
    </div>
  );
}
