import { useState } from "react";

import { api, call, type Role, type Schemas } from "../api/client";
import { useResource } from "../api/useResource";
import { ActionMessage, type Outcome } from "../components/ActionMessage";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { EmptyState } from "../components/EmptyState";
import { ErrorState } from "../components/ErrorState";
import { LoadingState } from "../components/LoadingState";
import { shortDate, shortTime } from "../contacts/format";
import "../contacts/records.css";
import { ROLE_LABELS } from "../session/roles";
import { useSession } from "../session/SessionProvider";
import { NewKeyDialog, ROLE_PURPOSE } from "./NewKeyDialog";

type ApiKey = Schemas["KeyOut"];

/** The tenant's API keys (an admin's page): who holds which role, issue one, revoke one. */
export function KeysPage() {
  const { session } = useSession();
  return (
    <section aria-labelledby="page-title" className="keys-page">
      {session.role === "admin" ? (
        <KeyAdministration ownKeyId={session.key_id} />
      ) : (
        <>
          <header className="page-header">
            <h1 id="page-title">Keys</h1>
          </header>
          <EmptyState title="Only an admin manages API keys">
            <p>
              You are signed in with the {ROLE_LABELS[session.role]} key “{session.key_name}”: it may {ROLE_PURPOSE[session.role]}.
              The API answers 403 to anyone else who lists, creates or revokes keys; ask an admin of {session.tenant_name || "your tenant"} for a
              key.
            </p>
          </EmptyState>
        </>
      )}
    </section>
  );
}

function KeyAdministration({ ownKeyId }: { ownKeyId: string }) {
  const keys = useResource(() => call(api.GET("/api/keys")), []);
  const campaigns = useResource(() => call(api.GET("/api/campaigns")), []);
  const campaignName = (id: string) =>
    (campaigns.resource.status === "ready" ? campaigns.resource.data.find((c) => c.id === id)?.name : undefined) ?? id;
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const list = keys.resource.status === "ready" ? keys.resource.data : [];

  return (
    <>
      <header className="page-header">
        <h1 id="page-title">Keys</h1>
        <div className="page-actions">
          <button type="button" className="button button-primary" onClick={() => setCreating(true)}>
            New key
          </button>
        </div>
      </header>
      <p className="hint">Each key signs in here and calls the API with its role. Its secret is shown once, when it is created.</p>
      <ActionMessage outcome={outcome} onDismiss={() => setOutcome(null)} />
      {keys.resource.status === "loading" && <LoadingState label="Loading keys…" />}
      {keys.resource.status === "error" && <ErrorState title="The keys could not be loaded" error={keys.resource.error} onRetry={keys.retry} />}
      {keys.resource.status === "ready" &&
        (list.length === 0 ? (
          <EmptyState title="No keys">
            <p>Create one with New key.</p>
          </EmptyState>
        ) : (
          <div className="table-frame">
            <table className="records-table" aria-label="API keys">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Role</th>
                  <th scope="col">Prefix</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Recordings</th>
                  <th scope="col" className="col-actions">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.map((key) => (
                  <tr key={key.id} className="key-row" data-key-id={key.id}>
                    <th scope="row" className="cell-main">
                      {key.name}
                      {key.id === ownKeyId && <span className="chip chip-ok">you</span>}
                      {key.operator && <span className="chip chip-quiet">operator</span>}
                    </th>
                    <td>
                      <span className={`role-badge role-${key.role}`}>{ROLE_LABELS[key.role as Role] ?? key.role}</span>
                    </td>
                    <td>
                      <code>{key.prefix}…</code>
                    </td>
                    <td className="cell-soft cell-nowrap" title={shortTime(key.created_at)}>
                      {shortDate(key.created_at)}
                    </td>
                    <td className="cell-soft cell-nowrap">{key.last_used_at ? shortTime(key.last_used_at) : "never"}</td>
                    <td className="cell-soft">
                      {key.campaigns === null || key.campaigns === undefined
                        ? "every campaign"
                        : key.campaigns.length === 0
                          ? "none"
                          : key.campaigns.map(campaignName).join(", ")}
                    </td>
                    <td className="col-actions">
                      {key.operator ? (
                        <span className="cell-soft" title="Set by FLOWDECK_ADMIN_KEY">
                          set by the server
                        </span>
                      ) : (
                        <button type="button" className="button-quiet button-quiet-danger" aria-label={`Revoke ${key.name}`} onClick={() => setRevoking(key)}>
                          Revoke
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
      {creating && (
        <NewKeyDialog
          onClose={() => setCreating(false)}
          onCreated={(issued) => {
            const { secret: _secret, ...shown } = issued;
            keys.replace([...list, shown]);
            setOutcome({ kind: "done", text: `Created the ${ROLE_LABELS[issued.role as Role] ?? issued.role} key "${issued.name}".` });
          }}
        />
      )}
      {revoking && (
        <ConfirmDialog
          title={`Revoke "${revoking.name}"?`}
          confirmLabel="Revoke key"
          onClose={() => setRevoking(null)}
          onConfirm={async () => {
            await call(api.DELETE("/api/keys/{key_id}", { params: { path: { key_id: revoking.id } } }));
            setRevoking(null);
            keys.replace(list.filter((key) => key.id !== revoking.id));
            setOutcome({ kind: "done", text: `Revoked "${revoking.name}": the API refuses it from now on.` });
          }}
        >
          <p>
            Every request with it is refused from now on, and sessions signed in with it end.
            {revoking.id === ownKeyId && " It is the key you are signed in with: you will be signed out."}
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}
