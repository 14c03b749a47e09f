import { useState, type FormEvent } from "react";
import { Link } from "react-router";

import { ApiProblem, api, call, messageOf, type Flow } from "../api/client";
import { Dialog } from "../components/Dialog";
import { ProblemDetails } from "../components/ProblemDetails";
import { CAMPAIGN_TRIGGERS, triggerOf, whyNeverStarts, writtenFor, type Assignment, type CampaignTrigger } from "./assignments";
import type { Campaign } from "./CampaignDialog";
import { ConditionRows, fromDrafts, toDrafts } from "./ConditionRows";

const RANKING = "Of the active assignments whose conditions hold for a call, the lowest priority starts; one without a priority comes after any number.";

interface AssignmentDialogProps {
  campaign: Campaign;
  /** null: a new assignment (flow and trigger chosen here); else its priority, conditions and switch. */
  assignment: Assignment | null;
  /** Every flow of the tenant, any of which may be assigned. */
  flows: Flow[];
  onSaved: (assignment: Assignment, created: boolean) => void;
  onClose: () => void;
}

/** Assigns a flow to one of a campaign's triggers, or changes an assignment. */
export function AssignmentDialog({ campaign, assignment, flows, onSaved, onClose }: AssignmentDialogProps) {
  const [flowId, setFlowId] = useState(assignment?.flow_id ?? "");
  const [trigger, setTrigger] = useState<CampaignTrigger | "">(assignment?.trigger ?? "");
  const [priority, setPriority] = useState(assignment?.priority?.toString() ?? "");
  const [active, setActive] = useState(assignment?.active ?? true);
  const [conditions, setConditions] = useState(toDrafts(assignment?.conditions ?? []));
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const byName = [...flows].sort((a, b) => a.name.localeCompare(b.name));
  const forCampaigns = byName.filter((flow) => writtenFor(flow) !== null);
  const others = byName.filter((flow) => writtenFor(flow) === null);
  const chosen = flows.find((flow) => flow.id === flowId);
  const warning = whyNeverStarts(chosen);

  function chooseFlow(id: string) {
    setFlowId(id);
    // A flow written for a campaign trigger suggests it, unless one is chosen already.
    const flow = flows.find((f) => f.id === id);
    const suggested = flow ? writtenFor(flow) : null;
    if (trigger === "" && suggested) setTrigger(suggested);
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setPending(true);
    setError(null);
    const settings = { priority: priority.trim() === "" ? null : Number(priority), conditions: fromDrafts(conditions), active };
    const campaignPath = { campaign_id: campaign.id };
    try {
      if (assignment === null) {
        if (trigger === "") return;
        const body = { flow_id: flowId, trigger, ...settings };
        onSaved(await call(api.POST("/api/campaigns/{campaign_id}/flows", { params: { path: campaignPath }, body })), true);
      } else {
        const path = { ...campaignPath, assignment_id: assignment.id };
        onSaved(await call(api.PATCH("/api/campaigns/{campaign_id}/flows/{assignment_id}", { params: { path }, body: settings })), false);
      }
    } catch (problem) {
      setError(problem);
    } finally {
      setPending(false);
    }
  }

  const title = assignment === null ? `Assign a flow to ${campaign.name}` : `Edit “${assignment.flow_name}” in ${campaign.name}`;
  return (
    <Dialog title={title} onClose={onClose}>
      <form onSubmit={submit} className="form assignment-form wide-dialog-body">
        {assignment === null ? (
          <div className="form-grid">
            <div className="field field-full">
              <label htmlFor="assignment-flow">Flow</label>
              <select id="assignment-flow" required autoFocus value={flowId} onChange={(e) => chooseFlow(e.target.value)}>
                <option value="">Choose a flow…</option>
                {forCampaigns.length > 0 && (
                  <optgroup label="Written for a campaign trigger">
                    {forCampaigns.map((flow) => (
                      <option key={flow.id} value={flow.id}>
                        {flow.name} (for {triggerOf(writtenFor(flow) ?? "")?.name.toLowerCase()})
                      </option>
                    ))}
                  </optgroup>
                )}
                {others.length > 0 && (
                  <optgroup label={forCampaigns.length > 0 ? "Other flows" : "Flows"}>
                    {others.map((flow) => (
                      <option key={flow.id} value={flow.id}>
                        {flow.name}
                      </option>
                    ))}
                  </optgroup>
                )}
              </select>
              {flows.length === 0 && (
                <p className="hint">
                  The tenant has no flow yet: create one on the <Link to="/flows">Flows</Link> page.
                </p>
              )}
            </div>
            <div className="field">
              <label htmlFor="assignment-trigger">Trigger</label>
              <select id="assignment-trigger" required value={trigger} onChange={(e) => setTrigger(e.target.value as CampaignTrigger | "")}>
                <option value="">Choose a trigger…</option>
                {CAMPAIGN_TRIGGERS.map((option) => (
                  <option key={option.value} value={option.value}>
                    {option.name}
                  </option>
                ))}
              </select>
            </div>
            <PriorityField value={priority} onChange={setPriority} />
            <p className="hint field-full">
              {trigger === "" ? "" : `Starts ${triggerOf(trigger)?.when}. `}
              {RANKING}
            </p>
          </div>
        ) : (
          <div className="form-grid">
            <p className="assignment-fixed field-full">
              Starts <strong>{assignment.flow_name}</strong> {triggerOf(assignment.trigger)?.when}.
            </p>
            <PriorityField value={priority} onChange={setPriority} />
            <p className="hint field-full">{RANKING}</p>
          </div>
        )}
        <label className="check">
          <input type="checkbox" checked={active} onChange={(e) => setActive(e.target.checked)} /> Active
        </label>
        {warning && <p className="warning">This flow is {warning}: it starts for no call until it is published and enabled.</p>}
        <ConditionRows value={conditions} onChange={setConditions} />
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
          <button type="submit" className="button button-primary" disabled={pending || (assignment === null && (flowId === "" || trigger === ""))}>
            {pending ? "Saving…" : assignment === null ? "Assign flow" : "Save"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function PriorityField({ value, onChange }: { value: string; onChange: (value: string) => void }) {
  return (
    <div className="field">
      <label htmlFor="assignment-priority">Priority (optional)</label>
      <input id="assignment-priority" type="number" min={0} step={1} inputMode="numeric" value={value} onChange={(e) => onChange(e.target.value)} />
    </div>
  );
}
