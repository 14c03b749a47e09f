import { useState } from "react";

import { api, call } from "../api/client";
import { useSubmit } from "../calls/useSubmit";
import { Dialog } from "../components/Dialog";
import { authLabel, problemsAt, type Connection, type Integration } from "./connections";
import { FieldProblem } from "./FieldProblem";
import { FormProblems } from "./FormProblems";
import { SecretFields, secretOf, secretPaths } from "./SecretFields";
import { SettingsFields, settingsOf } from "./SettingsFields";

interface NewConnectionDialogProps {
  integrations: Integration[];
  onCreated: (connection: Connection) => void;
  onClose: () => void;
}

/** A new connection: its name, integration, auth kind (only those the integration takes),
 * the secret's fields and the settings. The secret is sent once and never shown again. */
export function NewConnectionDialog({ integrations, onCreated, onClose }: NewConnectionDialogProps) {
  const [name, setName] = useState("");
  const [integrationName, setIntegrationName] = useState(integrations[0]?.integration ?? "");
  const integration = integrations.find((entry) => entry.integration === integrationName) ?? integrations[0];
  const [authKind, setAuthKind] = useState(integration?.auth[0]?.kind ?? "");
  const auth = integration?.auth.find((entry) => entry.kind === authKind) ?? integration?.auth[0];
  const [secret, setSecret] = useState<Record<string, string>>({});
  const [settings, setSettings] = useState<Record<string, string>>({});

  const { pending, error, submit } = useSubmit(async () => {
    if (!integration || !auth) return;
    const body = {
      name: name.trim(),
      integration: integration.integration,
      auth: auth.kind,
      settings: settingsOf(integration.settings, settings),
      secret: secretOf(auth, secret),
    };
    onCreated(await call(api.POST("/api/connections", { body })));
  });

  function chooseIntegration(next: string) {
    setIntegrationName(next);
    setAuthKind(integrations.find((entry) => entry.integration === next)?.auth[0]?.kind ?? "");
    setSecret({});
    setSettings({});
  }

  function chooseAuth(next: string) {
    setAuthKind(next);
    setSecret({});
  }

  const placed = [
    "$.name",
    "$.integration",
    "$.auth",
    ...(auth ? secretPaths(auth) : []),
    ...(integration?.settings.map((setting) => `$.settings.${setting.name}`) ?? []),
  ];
  const nameProblems = problemsAt(error, "$.name");
  const authProblems = problemsAt(error, "$.auth");

  return (
    <Dialog title="New connection" onClose={onClose}>
      <form onSubmit={submit} className="form connection-form">
        <div className="connection-field">
          <label htmlFor="connection-name">Name</label>
          <input
            id="connection-name"
            required
            maxLength={100}
            autoFocus
            spellCheck={false}
            placeholder="e.g. sales-slack"
            value={name}
            onChange={(event) => setName(event.target.value)}
            aria-invalid={nameProblems.length > 0}
            aria-describedby={nameProblems.length > 0 ? "connection-name-help connection-name-problem" : "connection-name-help"}
          />
          <p id="connection-name-help" className="field-hint">
            Steps name it in their <code>connection</code>: letters, digits, <code>_ . -</code>. It cannot change later.
          </p>
          <FieldProblem id="connection-name-problem" messages={nameProblems} />
        </div>
        <div className="connection-form-pair">
          <div className="connection-field">
            <label htmlFor="connection-integration">Integration</label>
            <select id="connection-integration" value={integration?.integration ?? ""} onChange={(event) => chooseIntegration(event.target.value)}>
              {integrations.map((entry) => (
                <option key={entry.integration} value={entry.integration}>
                  {entry.label}
                </option>
              ))}
            </select>
          </div>
          <div className="connection-field">
            <label htmlFor="connection-auth">Auth</label>
            <select
              id="connection-auth"
              value={auth?.kind ?? ""}
              onChange={(event) => chooseAuth(event.target.value)}
              aria-invalid={authProblems.length > 0}
              aria-describedby={authProblems.length > 0 ? "connection-auth-problem" : undefined}
            >
              {integration?.auth.map((entry) => (
                <option key={entry.kind} value={entry.kind}>
                  {authLabel(entry.kind)}
                </option>
              ))}
            </select>
            <FieldProblem id="connection-auth-problem" messages={authProblems} />
          </div>
        </div>
        {auth && (
          <SecretFields
            auth={auth}
            values={secret}
            onChange={(field, value) => setSecret((old) => ({ ...old, [field]: value }))}
            error={error}
            idPrefix="connection"
          />
        )}
        {integration && (
          <SettingsFields
            settings={integration.settings}
            values={settings}
            onChange={(field, value) => setSettings((old) => ({ ...old, [field]: value }))}
            error={error}
            idPrefix="connection"
          />
        )}
        <p className="hint">The secret is encrypted when it is saved, and never shown again: the list shows it masked.</p>
        <FormProblems error={error} placed={placed} />
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={pending || name.trim() === ""}>
            {pending ? "Creating…" : "Create connection"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
