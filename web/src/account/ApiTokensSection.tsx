import { useState, type SubmitEvent } from "react";
import { createToken, listTokens, revokeToken } from "../api/account";
import { errorMessage } from "../api/http";
import type { ApiToken } from "../api/types";
import { useLoader } from "../admin/useLoader";
import { ErrorText, SecretOnce } from "../components/bits";
import { useDialogs } from "../components/useDialogs";
import { formatDate } from "../lib/format";

const EXPIRY_DAYS: { label: string; days: number | null }[] = [
  { label: "30 days", days: 30 },
  { label: "90 days", days: 90 },
  { label: "1 year", days: 365 },
  { label: "Never", days: null },
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
      const created = await createToken(name.trim(), expiry === "never" ? null : Number(expiry));
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
        <label className="field grow">
          <span>Token name</span>
          <input
            required
            maxLength={128}
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder="e.g. laptop script"
          />
        </label>
        <label className="field">
          <span>Expires after</span>
          <select value={expiry} onChange={(e) => setExpiry(e.target.value)}>
            {EXPIRY_DAYS.map((option) => (
              <option key={option.label} value={option.days === null ? "never" : String(option.days)}>
                {option.label}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="primary">
          Create token
        </button>
      </form>
      {secret ? <SecretOnce title="API token" secret={secret} onDone={() => setSecret(null)} /> : null}
      <ErrorText error={error ?? loadError} />
      {tokens && tokens.length > 0 ? (
        <div className="table-wrap">
          <table aria-label="API tokens">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
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
            </tbody>
          </table>
        </div>
      ) : (
        <p className="muted">No API tokens.</p>
      )}
      {dialog}
    </section>
  );
}
