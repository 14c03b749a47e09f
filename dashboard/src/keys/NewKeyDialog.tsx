import { useState, type FormEvent } from "react";

import { ApiProblem, api, call, messageOf, type Role, type Schemas } from "../api/client";
import { Dialog } from "../components/Dialog";
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
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setPending(true);
    setError(null);
    try {
      onCreated(await call(api.POST("/api/keys", { body: { name: name.trim(), role } })));
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
