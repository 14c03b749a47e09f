import { useState, type FormEvent } from "react";

import { ApiProblem, api, call, messageOf, type Schemas } from "../api/client";
import { Dialog } from "../components/Dialog";
import { ProblemDetails } from "../components/ProblemDetails";
import { CAMPAIGN_TRIGGERS, TRIGGER_LABELS, type TriggerType } from "./triggers";

interface NewFlowDialogProps {
  onCreated: (flow: Schemas["FlowDetail"]) => void;
  onClose: () => void;
}

const TRIGGER_TYPES = Object.keys(TRIGGER_LABELS) as TriggerType[];

/** A new flow: its name, what it is for and what starts it; its steps come later. */
export function NewFlowDialog({ onCreated, onClose }: NewFlowDialogProps) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [trigger, setTrigger] = useState<TriggerType>("manual");
  // What a schedule, an event or a campaign trigger cannot start without (the API refuses it
  // otherwise).
  const [cron, setCron] = useState("0 9 * * 1-5");
  const [eventName, setEventName] = useState("");
  const [campaignTrigger, setCampaignTrigger] = useState("outbound_start");
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setPending(true);
    setError(null);
    try {
      const started: Schemas["Trigger"] = { type: trigger };
      if (trigger === "schedule") started.cron = cron.trim();
      if (trigger === "event") started.event = eventName.trim();
      if (trigger === "campaign") started.campaign_trigger = campaignTrigger;
      const body: Schemas["FlowCreate"] = { name: name.trim(), trigger: started };
      if (description.trim()) body.description = description.trim();
      onCreated(await call(api.POST("/api/flows", { body })));
    } catch (problem) {
      setError(problem);
      setPending(false);
    }
  }

  return (
    <Dialog title="New flow" onClose={onClose}>
      <form onSubmit={submit} className="form">
        <label htmlFor="flow-name">Name</label>
        <input id="flow-name" required maxLength={200} autoFocus value={name} onChange={(e) => setName(e.target.value)} />
        <label htmlFor="flow-description">Description (optional)</label>
        <textarea id="flow-description" rows={3} maxLength={10000} value={description} onChange={(e) => setDescription(e.target.value)} />
        <label htmlFor="flow-trigger">Started by</label>
        <select id="flow-trigger" value={trigger} onChange={(e) => setTrigger(e.target.value as TriggerType)}>
          {TRIGGER_TYPES.map((type) => (
            <option key={type} value={type}>
              {TRIGGER_LABELS[type]}
            </option>
          ))}
        </select>
        {trigger === "schedule" && (
          <>
            <label htmlFor="flow-cron">Cron (minute hour day month weekday)</label>
            <input id="flow-cron" required value={cron} onChange={(e) => setCron(e.target.value)} />
            <p className="hint">In the tenant's time zone unless the flow's settings name another.</p>
          </>
        )}
        {trigger === "event" && (
          <>
            <label htmlFor="flow-event">Event name</label>
            <input id="flow-event" required placeholder="order.created" value={eventName} onChange={(e) => setEventName(e.target.value)} />
          </>
        )}
        {trigger === "campaign" && (
          <>
            <label htmlFor="flow-campaign-trigger">Campaign trigger</label>
            <select id="flow-campaign-trigger" value={campaignTrigger} onChange={(e) => setCampaignTrigger(e.target.value)}>
              {CAMPAIGN_TRIGGERS.map((value) => (
                <option key={value} value={value}>
                  {value}
                </option>
              ))}
            </select>
            <p className="hint">It runs once assigned to a campaign for this trigger, on the Campaigns page.</p>
          </>
        )}
        <p className="hint">The flow starts as a draft with no steps; nothing runs until a version is published.</p>
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
          <button type="submit" className="button button-primary" disabled={pending || name.trim() === "" || (trigger === "event" && eventName.trim() === "")}>
            {pending ? "Creating…" : "Create flow"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
