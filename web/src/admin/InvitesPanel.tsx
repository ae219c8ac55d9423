import { useState, type SubmitEvent } from "react";
import { createInvite, listInvites, revokeInvite } from "../api/admin";
import { errorMessage } from "../api/http";
import type { Invite, Role } from "../api/types";
import { ErrorText, SecretOnce } from "../components/bits";
import { DataTable } from "../components/DataTable";
import { ExpiryField, expiryValue, InputField, RoleField, type ExpiryOption } from "../components/Field";
import { useDialogs } from "../components/useDialogs";
import { formatDate } from "../lib/format";
import { useLoader } from "./useLoader";

const EXPIRY_HOURS: ExpiryOption[] = [
  { label: "1 hour", after: 1 },
  { label: "1 day", after: 24 },
  { label: "7 days", after: 168 },
  { label: "30 days", after: 720 },
  { label: "Never", after: null },
];

function inviteState(invite: Invite): string {
  if (invite.revoked_at) return "Revoked";
  if (invite.expires_at && Date.parse(invite.expires_at) <= Date.now()) return "Expired";
  if (invite.uses >= invite.max_uses) return "Used up";
  return "Active";
}

export function InvitesPanel() {
  const { data: invites, error: loadError, reload } = useLoader(listInvites);
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
        expires_in_hours: expiryValue(form.expiry),
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
      <form className="card inline-form" onSubmit={(e) => void create(e)} aria-label="Create invite">
        <InputField
          label="Uses"
          type="number"
          min={1}
          max={1000}
          required
          value={form.uses}
          onValue={(uses) => setForm({ ...form, uses })}
        />
        <ExpiryField
          options={EXPIRY_HOURS}
          value={form.expiry}
          onValue={(expiry) => setForm({ ...form, expiry })}
        />
        <RoleField value={form.role} onChange={(role) => setForm({ ...form, role })} />
        <InputField
          label="Note"
          className="grow"
          maxLength={256}
          value={form.note}
          onValue={(note) => setForm({ ...form, note })}
          placeholder="who it is for"
        />
        <button type="submit" className="primary">
          Create invite
        </button>
      </form>
      {code ? <SecretOnce title="Invite code" secret={code} onDone={() => setCode(null)} /> : null}
      <ErrorText error={error ?? loadError} />
      <p className="success" role="status">
        {note}
      </p>
      <DataTable label="Invites" columns={["Code", "Role", "Uses", "Expires", "State", "Note", "Actions"]}>
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
      </DataTable>
      {dialog}
    </div>
  );
}
