import { useState } from "react";

import { api, call } from "../api/client";
import { useSubmit } from "../calls/useSubmit";
import { Dialog } from "../components/Dialog";
import { authLabel, problemsAt, type Connection, type Integration } from "./connections";
import { FieldProblem } from "./FieldProblem";
import { FormProblems } from "./FormProblems";
import { SecretFields, secretOf, secretPaths } from "./SecretFields";

interface ReplaceSecretDialogProps {
  connection: Connection;
  integration: Integration | undefined;
  onReplaced: (connection: Connection) => void;
  onClose: () => void;
}

/** A new secret for a connection, whole (`PATCH` with `auth` and `secret`): the old one is
 * gone, and flows using the connection take the new one at their next step. */
export function ReplaceSecretDialog({ connection, integration, onReplaced, onClose }: ReplaceSecretDialogProps) {
  const kinds = integration?.auth ?? [];
  const [authKind, setAuthKind] = useState(connection.auth);
  const auth = kinds.find((entry) => entry.kind === authKind) ?? kinds[0];
  const [secret, setSecret] = useState<Record<string, string>>({});

  const { pending, error, submit } = useSubmit(async () => {
    if (!auth) return;
    const body = { auth: auth.kind, secret: secretOf(auth, secret) };
    onReplaced(await call(api.PATCH("/api/connections/{connection_id}", { params: { path: { connection_id: connection.id } }, body })));
  });
  const authProblems = problemsAt(error, "$.auth");

  return (
    <Dialog title={`Replace the secret of “${connection.name}”`} onClose={onClose}>
      <form onSubmit={submit} className="form connection-form">
        <p className="hint">
          The new secret replaces the old one whole; flows that use “{connection.name}” take it at their next step. Its name,
          integration and settings stay.
        </p>
        {kinds.length > 1 && (
          <div className="connection-field">
            <label htmlFor="replace-auth">Auth</label>
            <select
              id="replace-auth"
              value={auth?.kind ?? ""}
              onChange={(event) => {
                setAuthKind(event.target.value);
                setSecret({});
              }}
              aria-invalid={authProblems.length > 0}
              aria-describedby={authProblems.length > 0 ? "replace-auth-problem" : undefined}
            >
              {kinds.map((entry) => (
                <option key={entry.kind} value={entry.kind}>
                  {authLabel(entry.kind)}
                </option>
              ))}
            </select>
            <FieldProblem id="replace-auth-problem" messages={authProblems} />
          </div>
        )}
        {auth && (
          <SecretFields
            auth={auth}
            values={secret}
            onChange={(field, value) => setSecret((old) => ({ ...old, [field]: value }))}
            error={error}
            idPrefix="replace"
          />
        )}
        <FormProblems error={error} placed={["$.auth", ...(auth ? secretPaths(auth) : [])]} />
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={pending || !auth}>
            {pending ? "Saving…" : "Replace secret"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
