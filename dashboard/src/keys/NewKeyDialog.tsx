import { useState, type FormEvent } from "react";

import { ApiProblem, api, call, messageOf, type Role, type Schemas } from "../api/client";
import { useResource } from "../api/useResource";
import { Dialog } from "../components/Dialog";
import { ErrorState } from "../components/ErrorState";
import { LoadingState } from "../components/LoadingState";
import { ProblemDetails } from "../components/ProblemDetails";
import { ROLE_LABELS } from "../session/roles";

export type IssuedKey = Schemas["KeyCreated"];

export const ROLE_PURPOSE: Record<Role, string> = {
  admin: "everything, keys included",
  manager: "create and edit flows, contacts and templates; run and cancel",
  viewer: "read everything, change nothing",
  agent: "read, and complete the human tasks assigned to it",
};

const ROLES = Object.keys(ROLE_PURPOSE) as Role[];

/** A new key: its name and role, then its secret, shown this once. */
export function NewKeyDialog({ onCreated, onClose }: { onCreated: (key: IssuedKey) => void; onClose: () => void }) {
  const [issued, setIssued] = useState<IssuedKey | null>(null);
  return (
    <Dialog title={issued ? `Key "${issued.name}" created` : "New API key"} onClose={onClose}>
      {issued ? (
        <SecretOnce issued={issued} onClose={onClose} />
      ) : (
        <KeyForm
          onCreated={(key) => {
            setIssued(key);
            onCreated(key);
          }}
          onClose={onClose}
        />
      )}
    </Dialog>
  );
}

function KeyForm({ onCreated, onClose }: { onCreated: (key: IssuedKey) => void; onClose: () => void }) {
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const [scoped, setScoped] = useState(false);
  const [campaigns, setCampaigns] = useState<ReadonlySet<string>>(new Set());
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setPending(true);
    setError(null);
    try {
      const limited = scoped && role !== "admin" ? [...campaigns] : null;
      onCreated(await call(api.POST("/api/keys", { body: { name: name.trim(), role, campaigns: limited } })));
    } catch (problem) {
      setError(problem);
      setPending(false);
    }
  }

  return (
    <form onSubmit={submit} className="form">
      <label htmlFor="key-name">Name</label>
      <input id="key-name" required maxLength={200} autoFocus placeholder="e.g. CRM integration" value={name} onChange={(e) => setName(e.target.value)} />
      <label htmlFor="key-role">Role</label>
      <select id="key-role" value={role} onChange={(e) => setRole(e.target.value as Role)} aria-describedby="key-role-hint">
        {ROLES.map((r) => (
          <option key={r} value={r}>
            {ROLE_LABELS[r]}
          </option>
        ))}
      </select>
      <p className="hint" id="key-role-hint">
        {ROLE_LABELS[role]}: {ROLE_PURPOSE[role]}.
      </p>
      {role !== "admin" && (
        <RecordingScope
          scoped={scoped}
          onScoped={setScoped}
          chosen={campaigns}
          onToggle={(id, on) =>
            setCampaigns((ids) => {
              const next = new Set(ids);
              if (on) next.add(id);
              else next.delete(id);
              return next;
            })
          }
        />
      )}
      {error !== null && (
        <div className="form-error" role="alert">
          {messageOf(error)}
          {error instanceof ApiProblem && <ProblemDetails details={error.details} />}
        </div>
      )}
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onClose}>
          Cancel
        </button>
        <button type="submit" className="button button-primary" disabled={pending || name.trim() === ""}>
          {pending ? "Creating…" : "Create key"}
        </button>
      </div>
    </form>
  );
}

interface RecordingScopeProps {
  scoped: boolean;
  onScoped: (scoped: boolean) => void;
  chosen: ReadonlySet<string>;
  onToggle: (campaignId: string, on: boolean) => void;
}

/** Which campaigns' call recordings the key may hear: all, or the ones ticked. */
function RecordingScope({ scoped, onScoped, chosen, onToggle }: RecordingScopeProps) {
  const campaigns = useResource(() => call(api.GET("/api/campaigns")), []);
  return (
    <fieldset className="key-scope">
      <legend>Call recordings it may hear</legend>
      <label className="check">
        <input type="radio" name="key-scope" checked={!scoped} onChange={() => onScoped(false)} />
        Every campaign's
      </label>
      <label className="check">
        <input type="radio" name="key-scope" checked={scoped} onChange={() => onScoped(true)} />
        Only these campaigns'
      </label>
      {scoped && campaigns.resource.status === "loading" && <LoadingState label="Loading campaigns…" />}
      {scoped && campaigns.resource.status === "error" && (
        <ErrorState title="The campaigns could not be loaded" error={campaigns.resource.error} onRetry={campaigns.retry} />
      )}
      {scoped && campaigns.resource.status === "ready" && campaigns.resource.data.length === 0 && (
        <p className="hint">There are no campaigns: the key will hear no recording.</p>
      )}
      {scoped && campaigns.resource.status === "ready" && (
        <div className="key-scope-campaigns">
          {campaigns.resource.data.map((campaign) => (
            <label key={campaign.id} className="check">
              <input type="checkbox" checked={chosen.has(campaign.id)} onChange={(e) => onToggle(campaign.id, e.target.checked)} />
              {campaign.name}
            </label>
          ))}
        </div>
      )}
    </fieldset>
  );
}

function SecretOnce({ issued, onClose }: { issued: IssuedKey; onClose: () => void }) {
  const [copied, setCopied] = useState<string | null>(null);

  async function copy() {
    try {
      await navigator.clipboard.writeText(issued.secret);
      setCopied("Copied to the clipboard.");
    } catch {
      setCopied("The browser refused the clipboard: select the secret and copy it by hand.");
    }
  }

  return (
    <div className="form">
      <p className="warning" role="note">
        <strong>Copy this secret now.</strong> It is shown only this once: Flowdeck keeps only its hash, and nobody can
        read it again. Lost, it can only be revoked and replaced.
      </p>
      <label htmlFor="key-secret">Secret of the {ROLE_LABELS[issued.role as Role] ?? issued.role} key</label>
      <div className="secret-box">
        <code id="key-secret" data-testid="key-secret">
          {issued.secret}
        </code>
        <button type="button" className="button" onClick={() => void copy()}>
          Copy
        </button>
      </div>
      <p className="hint" aria-live="polite">
        {copied}
      </p>
      <div className="dialog-actions">
        <button type="button" className="button button-primary" onClick={onClose}>
          I have copied it
        </button>
      </div>
    </div>
  );
}
