import { useState } from "react";

import { api, call } from "../api/client";
import { useResource } from "../api/useResource";
import { ActionMessage, type Outcome } from "../components/ActionMessage";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { EmptyState } from "../components/EmptyState";
import { ErrorState } from "../components/ErrorState";
import { LoadingState } from "../components/LoadingState";
import "../contacts/records.css";
import { canEditFlows } from "../session/roles";
import { useSession } from "../session/SessionProvider";
import { ConnectionTable, type TestState } from "./ConnectionTable";
import "./connections.css";
import type { Connection } from "./connections";
import { NewConnectionDialog } from "./NewConnectionDialog";
import { ReplaceSecretDialog } from "./ReplaceSecretDialog";

/** The tenant's connections: named credentials that steps use by name, so no secret is
 * written into a flow. Managers and admins create, test, re-key and delete them. */
export function ConnectionsPage() {
  const { session } = useSession();
  const editable = canEditFlows(session.role);
  const connections = useResource(() => call(api.GET("/api/connections")), []);
  const integrations = useResource(() => call(api.GET("/api/connections/integrations")), []);
  const known = integrations.resource.status === "ready" ? integrations.resource.data : null;
  const [creating, setCreating] = useState(false);
  const [replacing, setReplacing] = useState<Connection | null>(null);
  const [deleting, setDeleting] = useState<Connection | null>(null);
  const [tests, setTests] = useState<Record<string, TestState>>({});
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const list = connections.resource.status === "ready" ? connections.resource.data : [];

  const put = (changed: Connection) => {
    const others = list.filter((connection) => connection.id !== changed.id);
    connections.replace([...others, changed].sort((a, b) => a.name.localeCompare(b.name)));
  };

  async function test(connection: Connection) {
    setTests((old) => ({ ...old, [connection.id]: { status: "testing" } }));
    try {
      const result = await call(api.POST("/api/connections/{connection_id}/test", { params: { path: { connection_id: connection.id } } }));
      setTests((old) => ({ ...old, [connection.id]: { status: "done", result } }));
    } catch (error) {
      setTests((old) => ({ ...old, [connection.id]: { status: "error", error } }));
    }
  }

  return (
    <section aria-labelledby="page-title" className="connections-page">
      <header className="page-header">
        <h1 id="page-title">Connections</h1>
        {editable && (
          <div className="page-actions">
            <button type="button" className="button button-primary" onClick={() => setCreating(true)} disabled={known === null}>
              New connection
            </button>
          </div>
        )}
      </header>
      <p className="hint">
        Credentials for Slack, Stripe, an AI model and the other integrations. A step names a connection, so no secret is written into a
        flow (which every key can read); secrets are stored encrypted and only ever shown masked.
      </p>
      <ActionMessage outcome={outcome} onDismiss={() => setOutcome(null)} />
      {/* The form needs the integrations; the list only their labels. One box when both failed. */}
      {editable && integrations.resource.status === "error" && connections.resource.status !== "error" && (
        <ErrorState title="The integrations could not be loaded" error={integrations.resource.error} onRetry={integrations.retry} />
      )}
      {connections.resource.status === "loading" && <LoadingState label="Loading connections…" />}
      {connections.resource.status === "error" && (
        <ErrorState
          title="The connections could not be loaded"
          error={connections.resource.error}
          onRetry={() => {
            connections.retry();
            if (integrations.resource.status === "error") integrations.retry();
          }}
        />
      )}
      {connections.resource.status === "ready" &&
        (list.length === 0 ? (
          <EmptyState title="No connections yet">
            <p>
              A connection holds the credentials of one integration (a Slack bot token, a Stripe key, an OpenAI-compatible API's key and
              model). A step names a connection, so no secret is written into a flow.
            </p>
            <p>{editable ? "Create one with New connection." : "A manager or an admin creates them."}</p>
          </EmptyState>
        ) : (
          <ConnectionTable
            connections={list}
            integrations={known}
            editable={editable}
            tests={tests}
            onTest={(connection) => void test(connection)}
            onReplace={setReplacing}
            onDelete={setDeleting}
          />
        ))}
      {creating && known && (
        <NewConnectionDialog
          integrations={known}
          onClose={() => setCreating(false)}
          onCreated={(created) => {
            setCreating(false);
            put(created);
            setOutcome({ kind: "done", text: `Created “${created.name}”: its secret is stored encrypted and shown only masked.` });
          }}
        />
      )}
      {replacing && (
        <ReplaceSecretDialog
          connection={replacing}
          integration={known?.find((entry) => entry.integration === replacing.integration)}
          onClose={() => setReplacing(null)}
          onReplaced={(changed) => {
            setReplacing(null);
            put(changed);
            setTests((old) => ({ ...old, [changed.id]: { status: "untested" } }));
            setOutcome({ kind: "done", text: `Replaced the secret of “${changed.name}”.` });
          }}
        />
      )}
      {deleting && (
        <ConfirmDialog
          title={`Delete “${deleting.name}”?`}
          confirmLabel="Delete connection"
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            await call(api.DELETE("/api/connections/{connection_id}", { params: { path: { connection_id: deleting.id } } }));
            setDeleting(null);
            connections.replace(list.filter((connection) => connection.id !== deleting.id));
            setOutcome({ kind: "done", text: `Deleted “${deleting.name}”.` });
          }}
        >
          <p>
            Its secret is destroyed. A step that names “{deleting.name}” fails until a connection of that name exists again; the API
            refuses while a published flow uses it.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}
