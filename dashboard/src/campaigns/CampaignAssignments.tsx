import { useId, useState } from "react";
import { Link } from "react-router";

import { api, call, type Flow } from "../api/client";
import { useResource } from "../api/useResource";
import { ActionMessage, type Outcome } from "../components/ActionMessage";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { ErrorState } from "../components/ErrorState";
import { LoadingState } from "../components/LoadingState";
import { AssignmentDialog } from "./AssignmentDialog";
import { conditionsInWords, triggerOf, whyNeverStarts, type Assignment } from "./assignments";
import type { Campaign } from "./CampaignDialog";

interface CampaignAssignmentsProps {
  campaign: Campaign;
  /** The tenant's flows, once loaded: what may be assigned, and whether each can start. */
  flows: Flow[] | null;
  canEdit: boolean;
}

/** One campaign's flow assignments: which flow each trigger starts, under which conditions. */
export function CampaignAssignments({ campaign, flows, canEdit }: CampaignAssignmentsProps) {
  const titleId = useId();
  const path = { campaign_id: campaign.id };
  const assignments = useResource(() => call(api.GET("/api/campaigns/{campaign_id}/flows", { params: { path } })), [campaign.id]);
  const [editing, setEditing] = useState<Assignment | "new" | null>(null);
  const [removing, setRemoving] = useState<Assignment | null>(null);
  const [pending, setPending] = useState<ReadonlySet<string>>(new Set());
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const list = assignments.resource.status === "ready" ? assignments.resource.data : [];
  const flowOf = (id: string) => flows?.find((flow) => flow.id === id);

  async function switchActive(assignment: Assignment, active: boolean) {
    setPending((ids) => new Set(ids).add(assignment.id));
    try {
      const changed = await call(
        api.PATCH("/api/campaigns/{campaign_id}/flows/{assignment_id}", { params: { path: { ...path, assignment_id: assignment.id } }, body: { active } }),
      );
      assignments.replace(list.map((a) => (a.id === changed.id ? changed : a)));
      assignments.reload(); // another switch flipped meanwhile is not lost from the list
      setOutcome({ kind: "done", text: `“${assignment.flow_name}” is ${active ? "active" : "inactive"} for ${triggerOf(assignment.trigger)?.name.toLowerCase()} in ${campaign.name}.` });
    } catch (error) {
      setOutcome({ kind: "failed", action: active ? "Switching it on" : "Switching it off", error });
    } finally {
      setPending((ids) => {
        const rest = new Set(ids);
        rest.delete(assignment.id);
        return rest;
      });
    }
  }

  return (
    <section className="campaign-assignments" aria-labelledby={titleId} data-campaign-id={campaign.id}>
      <header className="campaign-assignments-head">
        <h3 id={titleId}>{campaign.name}</h3>
        {canEdit && (
          <button type="button" className="button" aria-label={`Assign a flow to ${campaign.name}`} disabled={flows === null} onClick={() => setEditing("new")}>
            Assign a flow
          </button>
        )}
      </header>
      <ActionMessage outcome={outcome} onDismiss={() => setOutcome(null)} />
      {assignments.resource.status === "loading" && <LoadingState label={`Loading the flows assigned to ${campaign.name}…`} />}
      {assignments.resource.status === "error" && (
        <ErrorState title={`The flows assigned to ${campaign.name} could not be loaded`} error={assignments.resource.error} onRetry={assignments.retry} />
      )}
      {assignments.resource.status === "ready" &&
        (list.length === 0 ? (
          <p className="hint assignments-none">No flow assigned: none of its triggers starts anything.</p>
        ) : (
          <div className="table-frame">
            <table className="records-table assignments-table" aria-label={`Flows assigned to ${campaign.name}`}>
              <thead>
                <tr>
                  <th scope="col">Flow</th>
                  <th scope="col">Starts</th>
                  <th scope="col">Priority</th>
                  <th scope="col">Only when</th>
                  <th scope="col">Active</th>
                  {canEdit && (
                    <th scope="col" className="col-actions">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  )}
                </tr>
              </thead>
              <tbody>
                {list.map((assignment) => {
                  const trigger = triggerOf(assignment.trigger);
                  const named = `${assignment.flow_name} (${trigger?.name.toLowerCase() ?? assignment.trigger})`;
                  const never = whyNeverStarts(flowOf(assignment.flow_id));
                  return (
                    <tr key={assignment.id} className="assignment-row" data-assignment-id={assignment.id}>
                      <th scope="row" className="cell-main">
                        <Link to={`/flows/${assignment.flow_id}`}>{assignment.flow_name}</Link>
                        {never && <span className="chip chip-warn assignment-never">{never}: never starts</span>}
                      </th>
                      <td>
                        <span className="assignment-trigger">{trigger?.name ?? assignment.trigger}</span>
                        <span className="cell-sub">{trigger?.when}</span>
                      </td>
                      <td className="cell-nowrap">{assignment.priority ?? <span className="cell-soft">none</span>}</td>
                      <td className="assignment-when">{conditionsInWords(assignment.conditions)}</td>
                      <td>
                        {canEdit ? (
                          <button
                            type="button"
                            role="switch"
                            aria-checked={assignment.active}
                            aria-label={`${named} active`}
                            className={assignment.active ? "switch switch-on" : "switch"}
                            disabled={pending.has(assignment.id)}
                            onClick={() => void switchActive(assignment, !assignment.active)}
                          >
                            <span className="switch-knob" aria-hidden="true" />
                            <span className="switch-text">{assignment.active ? "On" : "Off"}</span>
                          </button>
                        ) : (
                          <span className={assignment.active ? "status-badge status-on" : "status-badge"}>{assignment.active ? "On" : "Off"}</span>
                        )}
                      </td>
                      {canEdit && (
                        <td className="col-actions">
                          <button type="button" className="button-quiet" aria-label={`Edit ${named}`} onClick={() => setEditing(assignment)}>
                            Edit
                          </button>
                          <button type="button" className="button-quiet button-quiet-danger" aria-label={`Remove ${named}`} onClick={() => setRemoving(assignment)}>
                            Remove
                          </button>
                        </td>
                      )}
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        ))}
      {editing && flows && (
        <AssignmentDialog
          campaign={campaign}
          assignment={editing === "new" ? null : editing}
          flows={flows}
          onClose={() => setEditing(null)}
          onSaved={(saved, created) => {
            setEditing(null);
            assignments.replace(created ? [...list, saved] : list.map((a) => (a.id === saved.id ? saved : a)));
            assignments.reload(); // in the API's order: by trigger, then priority
            const when = triggerOf(saved.trigger)?.when;
            setOutcome({ kind: "done", text: created ? `Assigned “${saved.flow_name}” to ${campaign.name}: it starts ${when}.` : `Saved “${saved.flow_name}” in ${campaign.name}.` });
          }}
        />
      )}
      {removing && (
        <ConfirmDialog
          title={`Remove “${removing.flow_name}” from ${campaign.name}?`}
          confirmLabel="Remove flow"
          onClose={() => setRemoving(null)}
          onConfirm={async () => {
            await call(api.DELETE("/api/campaigns/{campaign_id}/flows/{assignment_id}", { params: { path: { ...path, assignment_id: removing.id } } }));
            setRemoving(null);
            assignments.replace(list.filter((a) => a.id !== removing.id));
            setOutcome({ kind: "done", text: `Removed “${removing.flow_name}” from ${campaign.name}.` });
          }}
        >
          <p>
            The {triggerOf(removing.trigger)?.name.toLowerCase()} trigger of {campaign.name} will no longer start it. Runs it started go on, and the flow itself is
            kept. To pause it instead, switch it off.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}
