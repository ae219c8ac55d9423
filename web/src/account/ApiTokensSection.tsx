import { useState, type SubmitEvent } from "react";
import { createToken, listTokens, revokeToken } from "../api/account";
import { errorMessage } from "../api/http";
import type { ApiToken } from "../api/types";
import { useLoader } from "../admin/useLoader";
import { ErrorText, SecretOnce } from "../components/bits";
import { DataTable } from "../components/DataTable";
import { ExpiryField, expiryValue, InputField, type ExpiryOption } from "../components/Field";
import { useDialogs } from "../components/useDialogs";
import { formatDate } from "../lib/format";

const EXPIRY_DAYS: ExpiryOption[] = [
  { label: "30 days", after: 30 },
  { label: "90 days", after: 90 },
  { label: "1 year", after: 365 },
  { label: "Never", after: null },
];

export function ApiTokensSection() {
  const { data: tokens, error: loadError, reload } = useLoader(listTokens);
  const { dialog, confirm } = useDialogs();
  const [name, setName] = useState("");
  const [expiry, setExpiry] = useState("90");
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const create = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    setError(null);
    try {
      const created = await createToken(name.trim(), expiryValue(expiry));
      setSecret(created.token);
      setName("");
      reload();
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  const revoke = async (token: ApiToken): Promise<void> => {
    const ok = await confirm({
      title: "Revoke API token",
      message: (
        <p>
          Revoke <strong>{token.name ?? "this token"}</strong>? Programs using it stop working at once.
        </p>
      ),
      confirmLabel: "Revoke",
      danger: true,
    });
    if (!ok) return;
    try {
      await revokeToken(token.id);
      reload();
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  return (
    <section className="card" aria-labelledby="tokens-title">
      <h2 id="tokens-title">Personal API tokens</h2>
      <p className="muted">
        For scripts and tools: send <code>Authorization: Bearer &lt;token&gt;</code>. A token acts as you.
      </p>
      <form className="inline-form" onSubmit={(e) => void create(e)} aria-label="Create API token">
        <InputField
          label="Token name"
          className="grow"
          required
          maxLength={128}
          value={name}
          onValue={setName}
          placeholder="e.g. laptop script"
        />
        <ExpiryField options={EXPIRY_DAYS} value={expiry} onValue={setExpiry} />
        <button type="submit" className="primary">
          Create token
        </button>
      </form>
      {secret ? <SecretOnce title="API token" secret={secret} onDone={() => setSecret(null)} /> : null}
      <ErrorText error={error ?? loadError} />
      {tokens && tokens.length > 0 ? (
        <DataTable label="API tokens" columns={["Name", "Created", "Expires", "Actions"]}>
          {tokens.map((token) => (
            <tr key={token.id}>
              <th scope="row">{token.name ?? "—"}</th>
              <td>{formatDate(token.created_at)}</td>
              <td>{token.expires_at ? formatDate(token.expires_at) : "never"}</td>
              <td>
                <button
                  type="button"
                  className="danger"
                  onClick={() => void revoke(token)}
                  aria-label={`Revoke token ${token.name ?? token.id}`}
                >
                  Revoke
                </button>
              </td>
            </tr>
          ))}
        </DataTable>
      ) : (
        <p className="muted">No API tokens.</p>
      )}
      {dialog}
    </section>
  );
}
