import { useMemo, useState } from "react";
import { Link } from "react-router";

import { api, call, type Schemas } from "../api/client";
import { useResource } from "../api/useResource";
import { ActionMessage, type Outcome } from "../components/ActionMessage";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { EmptyState } from "../components/EmptyState";
import { ErrorState } from "../components/ErrorState";
import { LoadingState } from "../components/LoadingState";
import { shortTime } from "../contacts/format";
import "../contacts/records.css";
import { canEditFlows } from "../session/roles";
import { useSession } from "../session/SessionProvider";
import "./campaigns.css";
import { CampaignDialog, type Campaign } from "./CampaignDialog";
import { CampaignFlows } from "./CampaignFlows";

type Deployment = Schemas["DeploymentOut"];

/** Campaigns, the flows their phone numbers run, and the flows assigned to their triggers. */
export function CampaignsPage() {
  const { session } = useSession();
  const canEdit = canEditFlows(session.role);
  const campaigns = useResource(() => call(api.GET("/api/campaigns")), []);
  const numbers = useResource(() => call(api.GET("/api/phone-numbers")), []);
  const flows = useResource(() => call(api.GET("/api/flows")), []);
  const [editing, setEditing] = useState<Campaign | "new" | null>(null);
  const [deleting, setDeleting] = useState<Campaign | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const list = campaigns.resource.status === "ready" ? campaigns.resource.data : [];
  const flowList = flows.resource.status === "ready" ? flows.resource.data : [];

  const deployments = useMemo(() => {
    const byCampaign = new Map<string, Deployment[]>();
    if (numbers.resource.status !== "ready") return byCampaign;
    for (const number of numbers.resource.data)
      for (const deployment of Object.values(number.deployments))
        if (deployment?.campaign_id) byCampaign.set(deployment.campaign_id, [...(byCampaign.get(deployment.campaign_id) ?? []), deployment]);
    return byCampaign;
  }, [numbers.resource]);
  const flowName = (id: string) => flowList.find((flow) => flow.id === id)?.name ?? "a flow";

  return (
    <section aria-labelledby="page-title" className="campaigns-page">
      <header className="page-header">
        <h1 id="page-title">Campaigns</h1>
        {canEdit && (
          <div className="page-actions">
            <button type="button" className="button button-primary" onClick={() => setEditing("new")}>
              New campaign
            </button>
          </div>
        )}
      </header>
      {!canEdit && <p className="read-only-note">Your key reads campaigns; a manager or an admin changes them.</p>}
      <ActionMessage outcome={outcome} onDismiss={() => setOutcome(null)} />
      {campaigns.resource.status === "loading" && <LoadingState label="Loading campaigns…" />}
      {campaigns.resource.status === "error" && (
        <ErrorState
          title="The campaigns could not be loaded"
          error={campaigns.resource.error}
          onRetry={() => {
            // One Try again for the page: what else failed with it is asked for again too.
            campaigns.retry();
            if (numbers.resource.status === "error") numbers.retry();
            if (flows.resource.status === "error") flows.retry();
          }}
        />
      )}
      {campaigns.resource.status !== "error" && numbers.resource.status === "error" && (
        <ErrorState title="The phone numbers that run each campaign's flows could not be loaded" error={numbers.resource.error} onRetry={numbers.retry} />
      )}
      {campaigns.resource.status === "ready" &&
        (list.length === 0 ? (
          <EmptyState title="No campaigns yet">
            <p>
              {canEdit
                ? "Create one with New campaign: flows can then be assigned to its triggers, and runs, phone numbers and call recordings belong to it."
                : "A manager or an admin creates campaigns; they will be listed here."}
            </p>
          </EmptyState>
        ) : (
          <div className="table-frame">
            <table className="records-table" aria-label="Campaigns">
              <thead>
                <tr>
                  <th scope="col">Campaign</th>
                  <th scope="col">Phone numbers</th>
                  <th scope="col">Created</th>
                  <th scope="col" className="col-actions">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.map((campaign) => (
                  <tr key={campaign.id} className="campaign-row" data-campaign-id={campaign.id}>
                    <th scope="row" className="cell-main">
                      {campaign.name}
                      {campaign.description && <span className="cell-soft campaign-description">{campaign.description}</span>}
                    </th>
                    <td>
                      <DeployedFlows deployments={deployments.get(campaign.id) ?? []} flowName={flowName} />
                    </td>
                    <td className="cell-soft cell-nowrap">{shortTime(campaign.created_at)}</td>
                    <td className="col-actions">
                      {canEdit && (
                        <>
                          <button type="button" className="button-quiet" aria-label={`Edit ${campaign.name}`} onClick={() => setEditing(campaign)}>
                            Edit
                          </button>
                          <button type="button" className="button-quiet button-quiet-danger" aria-label={`Delete ${campaign.name}`} onClick={() => setDeleting(campaign)}>
                            Delete
                          </button>
                        </>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
      {campaigns.resource.status === "ready" && list.length > 0 && (
        <CampaignFlows campaigns={list} flows={flows.resource} onRetryFlows={flows.retry} canEdit={canEdit} />
      )}
      {editing && (
        <CampaignDialog
          campaign={editing === "new" ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={(saved, created) => {
            setEditing(null);
            const rest = list.filter((c) => c.id !== saved.id);
            campaigns.replace([...rest, saved].sort((a, b) => a.name.localeCompare(b.name)));
            setOutcome({ kind: "done", text: created ? `Created the campaign "${saved.name}".` : `Saved "${saved.name}".` });
          }}
        />
      )}
      {deleting && (
        <ConfirmDialog
          title={`Delete the campaign "${deleting.name}"?`}
          confirmLabel="Delete campaign"
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            await call(api.DELETE("/api/campaigns/{campaign_id}", { params: { path: { campaign_id: deleting.id } } }));
            setDeleting(null);
            campaigns.replace(list.filter((c) => c.id !== deleting.id));
            setOutcome({ kind: "done", text: `Deleted the campaign "${deleting.name}".` });
          }}
        >
          <p>Only an unused campaign can go: once a run, a deployment or a recording names it, the API keeps it. Its flow assignments go with it.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}

function DeployedFlows({ deployments, flowName }: { deployments: Deployment[]; flowName: (id: string) => string }) {
  if (deployments.length === 0) return <span className="cell-soft">No phone number deployed with it</span>;
  return (
    <ul className="plain-list">
      {deployments.map((deployment) => (
        <li key={deployment.id}>
          Calls to <strong>{deployment.number}</strong> ({deployment.environment}) run{" "}
          <Link to={`/flows/${deployment.flow_id}`}>{flowName(deployment.flow_id)}</Link> v{deployment.version}
        </li>
      ))}
    </ul>
  );
}
