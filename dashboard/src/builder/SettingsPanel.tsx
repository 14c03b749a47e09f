import { useEffect, useMemo, useState, type FormEvent } from "react";

import { ApiProblem, api, call, messageOf, type Schemas } from "../api/client";
import type { FlowDefinition } from "../canvas/types";
import { ProblemDetails } from "../components/ProblemDetails";
import { CAMPAIGN_TRIGGERS, TRIGGER_LABELS, type TriggerType } from "../flows/triggers";
import { FormContext } from "./FormContext";
import { KeyValueEditor } from "./KeyValueEditor";

type Flow = Schemas["FlowDetail"];
type Trigger = Record<string, unknown> & { type: TriggerType };
type Hours = { start: string; end: string; timezone: string; days: string[] };

const TRIGGER_TYPES = Object.keys(TRIGGER_LABELS) as TriggerType[];
const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const LEAD_FIELDS = ["lead_source", "entry_type", "tags", "name", "email", "phone"];
const LEAD_OPS = ["eq", "ne", "contains", "any"];

interface SettingsPanelProps {
  flow: Flow;
  definition: FlowDefinition;
  canEdit: boolean;
  onSaved: (flow: Flow) => void;
  onVariables: (variables: Record<string, unknown> | undefined) => void;
}

/** The flow's settings (PATCH /api/flows/{id}: name, description, enabled, trigger, business
 * hours, cooldown, priority) and the draft's flow variables (saved with the draft). */
export function SettingsPanel({ flow, definition, canEdit, onSaved, onVariables }: SettingsPanelProps) {
  const [name, setName] = useState(flow.name);
  const [description, setDescription] = useState(flow.description ?? "");
  const [enabled, setEnabled] = useState(flow.enabled);
  const [trigger, setTrigger] = useState<Trigger | null>(flow.trigger as Trigger | null);
  const [hours, setHours] = useState<Hours | null>(flow.business_hours as Hours | null);
  const [cooldown, setCooldown] = useState(String(flow.cooldown_minutes));
  const [priority, setPriority] = useState(flow.priority === null ? "" : String(flow.priority));
  const [pending, setPending] = useState(false);
  const [outcome, setOutcome] = useState<{ ok: true } | { ok: false; error: unknown } | null>(null);
  const context = useMemo(() => ({ scope: [], readOnly: !canEdit }), [canEdit]);

  useEffect(() => {
    setName(flow.name);
    setDescription(flow.description ?? "");
    setEnabled(flow.enabled);
    setTrigger(flow.trigger as Trigger | null);
    setHours(flow.business_hours as Hours | null);
    setCooldown(String(flow.cooldown_minutes));
    setPriority(flow.priority === null ? "" : String(flow.priority));
  }, [flow]);

  async function save(event: FormEvent) {
    event.preventDefault();
    setPending(true);
    setOutcome(null);
    try {
      const body: Schemas["FlowUpdate"] = {
        name: name.trim(),
        description: description.trim() || null,
        enabled,
        trigger: trigger as Schemas["Trigger"] | null,
        business_hours: hours as Schemas["BusinessHours"] | null,
        cooldown_minutes: Number(cooldown),
        priority: priority.trim() === "" ? null : Number(priority),
      };
      onSaved(await call(api.PATCH("/api/flows/{flow_id}", { params: { path: { flow_id: flow.id } }, body })));
      setOutcome({ ok: true });
    } catch (error) {
      setOutcome({ ok: false, error });
    } finally {
      setPending(false);
    }
  }

  const readOnly = !canEdit;
  return (
    <FormContext.Provider value={context}>
      <div className="side-panel-head">
        <div>
          <span className="side-panel-kicker">Flow</span>
          <h2 id="side-panel-title">Settings</h2>
        </div>
      </div>
      <form className="node-form" onSubmit={save} aria-labelledby="side-panel-title">
        <div className="field">
          <label htmlFor="flow-settings-name">Name</label>
          <input id="flow-settings-name" required maxLength={200} disabled={readOnly} value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="flow-settings-description">Description</label>
          <textarea id="flow-settings-description" rows={3} disabled={readOnly} value={description} onChange={(e) => setDescription(e.target.value)} />
        </div>
        <label className="checkbox-field" htmlFor="flow-settings-enabled">
          <input id="flow-settings-enabled" type="checkbox" disabled={readOnly} checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
          Enabled (its published version runs when triggered)
        </label>
        <h3>Trigger</h3>
        <TriggerFields trigger={trigger} onChange={setTrigger} readOnly={readOnly} />
        <h3>When</h3>
        <label className="checkbox-field" htmlFor="flow-settings-hours">
          <input
            id="flow-settings-hours"
            type="checkbox"
            disabled={readOnly}
            checked={hours !== null}
            onChange={(e) => setHours(e.target.checked ? { start: "09:00", end: "18:00", timezone: "UTC", days: DAYS.slice(0, 5) } : null)}
          />
          Only within business hours (a run waits for the opening)
        </label>
        {hours && <HoursFields hours={hours} onChange={setHours} readOnly={readOnly} />}
        <div className="field-pair">
          <div className="field">
            <label htmlFor="flow-settings-cooldown">Cooldown (minutes)</label>
            <input id="flow-settings-cooldown" type="number" min={0} max={525600} required disabled={readOnly} value={cooldown} onChange={(e) => setCooldown(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="flow-settings-priority">Priority</label>
            <input id="flow-settings-priority" type="number" min={1} disabled={readOnly} placeholder="none" value={priority} onChange={(e) => setPriority(e.target.value)} />
          </div>
        </div>
        {outcome && !outcome.ok && (
          <div className="form-error" role="alert">
            Saving the settings failed: {messageOf(outcome.error)}
            {outcome.error instanceof ApiProblem && <ProblemDetails details={outcome.error.details} />}
          </div>
        )}
        {outcome?.ok && (
          <p className="notice" role="status">
            Settings saved.
          </p>
        )}
        {canEdit && (
          <button type="submit" className="button button-primary" disabled={pending || name.trim() === ""}>
            {pending ? "Saving…" : "Save settings"}
          </button>
        )}
      </form>
      <h3 id="flow-variables-title">Flow variables</h3>
      <p className="hint">
        Read in templates as <code>vars.name</code>; saved with the draft, like its steps.
      </p>
      <KeyValueEditor id="flow-variables" value={definition.variables ?? {}} onChange={onVariables} keyLabel="Variable" />
    </FormContext.Provider>
  );
}

function TriggerFields({ trigger, onChange, readOnly }: { trigger: Trigger | null; onChange: (trigger: Trigger | null) => void; readOnly: boolean }) {
  const set = (key: string, value: unknown) => {
    if (!trigger) return;
    const next: Trigger = { ...trigger };
    if (value === undefined || value === "") delete next[key];
    else next[key] = value;
    onChange(next);
  };
  const text = (key: string) => (typeof trigger?.[key] === "string" ? (trigger[key] as string) : "");
  return (
    <>
      <div className="field">
        <label htmlFor="flow-settings-trigger">Started by</label>
        <select
          id="flow-settings-trigger"
          disabled={readOnly}
          value={trigger?.type ?? ""}
          onChange={(e) => onChange(e.target.value === "" ? null : { type: e.target.value as TriggerType })}
        >
          <option value="">Nothing (manual runs only)</option>
          {TRIGGER_TYPES.map((type) => (
            <option key={type} value={type}>
              {TRIGGER_LABELS[type]}
            </option>
          ))}
        </select>
      </div>
      {trigger?.type === "lead_created" && (
        <LeadConditions value={Array.isArray(trigger.conditions) ? (trigger.conditions as Record<string, unknown>[]) : []} onChange={(list) => set("conditions", list.length ? list : undefined)} readOnly={readOnly} />
      )}
      {trigger?.type === "event" && (
        <div className="field">
          <label htmlFor="flow-settings-event">Event name</label>
          <input id="flow-settings-event" disabled={readOnly} placeholder="order.created" value={text("event")} onChange={(e) => set("event", e.target.value)} />
        </div>
      )}
      {trigger?.type === "schedule" && (
        <div className="field-pair">
          <div className="field">
            <label htmlFor="flow-settings-cron">Cron</label>
            <input id="flow-settings-cron" disabled={readOnly} placeholder="0 9 * * mon-fri" value={text("cron")} onChange={(e) => set("cron", e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="flow-settings-cron-zone">Time zone</label>
            <input id="flow-settings-cron-zone" disabled={readOnly} placeholder="UTC" value={text("timezone")} onChange={(e) => set("timezone", e.target.value)} />
          </div>
        </div>
      )}
      {trigger?.type === "campaign" && (
        <div className="field">
          <label htmlFor="flow-settings-campaign">Campaign trigger</label>
          <select id="flow-settings-campaign" disabled={readOnly} value={text("campaign_trigger")} onChange={(e) => set("campaign_trigger", e.target.value)}>
            <option value="">Choose…</option>
            {CAMPAIGN_TRIGGERS.map((value) => (
              <option key={value} value={value}>
                {value}
              </option>
            ))}
          </select>
        </div>
      )}
    </>
  );
}

function LeadConditions({ value, onChange, readOnly }: { value: Record<string, unknown>[]; onChange: (value: Record<string, unknown>[]) => void; readOnly: boolean }) {
  const update = (index: number, change: Record<string, unknown>) => onChange(value.map((row, i) => (i === index ? { ...row, ...change } : row)));
  return (
    <fieldset className="condition-group">
      <legend>Only leads where (all hold)</legend>
      <datalist id="lead-fields">
        {LEAD_FIELDS.map((field) => (
          <option key={field} value={field} />
        ))}
      </datalist>
      {value.length === 0 && <p className="hint">Every new lead.</p>}
      {value.map((row, index) => (
        <div className="condition-row" key={index} role="group" aria-label={`Lead condition ${index + 1}`}>
          <input aria-label="Field" list="lead-fields" disabled={readOnly} value={String(row.field ?? "")} onChange={(e) => update(index, { field: e.target.value })} />
          <select aria-label="Operator" disabled={readOnly} value={String(row.op ?? "eq")} onChange={(e) => update(index, { op: e.target.value, value: e.target.value === "any" ? (Array.isArray(row.value) ? row.value : row.value ? [String(row.value)] : []) : Array.isArray(row.value) ? row.value.join(", ") : row.value })}>
            {LEAD_OPS.map((op) => (
              <option key={op} value={op}>
                {op === "any" ? "is one of" : op}
              </option>
            ))}
          </select>
          <input
            aria-label={row.op === "any" ? "Values, separated by commas" : "Value"}
            disabled={readOnly}
            value={Array.isArray(row.value) ? row.value.join(", ") : String(row.value ?? "")}
            onChange={(e) => update(index, { value: row.op === "any" ? e.target.value.split(",").map((part) => part.trim()).filter(Boolean) : e.target.value })}
          />
          {!readOnly && (
            <button type="button" className="button-quiet button-quiet-danger button-small" aria-label={`Remove lead condition ${index + 1}`} onClick={() => onChange(value.filter((_, i) => i !== index))}>
              ×
            </button>
          )}
        </div>
      ))}
      {!readOnly && (
        <button type="button" className="button button-small" onClick={() => onChange([...value, { field: "lead_source", op: "eq", value: "" }])}>
          Add lead condition
        </button>
      )}
    </fieldset>
  );
}

function HoursFields({ hours, onChange, readOnly }: { hours: Hours; onChange: (hours: Hours) => void; readOnly: boolean }) {
  return (
    <>
      <div className="field-pair">
        <div className="field">
          <label htmlFor="flow-settings-open">Opens</label>
          <input id="flow-settings-open" type="time" disabled={readOnly} value={hours.start} onChange={(e) => onChange({ ...hours, start: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor="flow-settings-close">Closes</label>
          <input id="flow-settings-close" type="time" disabled={readOnly} value={hours.end} onChange={(e) => onChange({ ...hours, end: e.target.value })} />
        </div>
      </div>
      <div className="field">
        <label htmlFor="flow-settings-zone">Time zone</label>
        <input id="flow-settings-zone" disabled={readOnly} value={hours.timezone} onChange={(e) => onChange({ ...hours, timezone: e.target.value })} />
      </div>
      <fieldset className="days">
        <legend>Days</legend>
        {DAYS.map((day) => (
          <label key={day} className="checkbox-field">
            <input
              type="checkbox"
              disabled={readOnly}
              checked={hours.days.includes(day)}
              onChange={(e) => onChange({ ...hours, days: e.target.checked ? DAYS.filter((d) => d === day || hours.days.includes(d)) : hours.days.filter((d) => d !== day) })}
            />
            {day}
          </label>
        ))}
      </fieldset>
    </>
  );
}
