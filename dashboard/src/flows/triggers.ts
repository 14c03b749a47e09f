import type { Schemas } from "../api/client";

export type TriggerType = Schemas["Trigger"]["type"];

export const TRIGGER_LABELS: Record<TriggerType, string> = {
  lead_created: "New lead",
  call_incoming: "Incoming call",
  campaign: "Campaign",
  event: "Event",
  schedule: "Schedule",
  message_received: "Message received",
  manual: "Manual",
};

interface Condition {
  field?: unknown;
  op?: unknown;
  value?: unknown;
}

function conditionText(condition: Condition): string {
  const value = typeof condition.value === "string" ? condition.value : JSON.stringify(condition.value);
  return `${String(condition.field)} ${String(condition.op)} ${value}`;
}

/** One line saying what starts a flow: "New lead · lead_source eq IndiaMART". */
export function triggerSummary(trigger: Record<string, unknown> | null): string {
  if (trigger === null) return "None (manual runs only)";
  const type = trigger.type as TriggerType;
  const parts = [TRIGGER_LABELS[type] ?? String(trigger.type)];
  if (typeof trigger.event === "string") parts.push(trigger.event);
  if (typeof trigger.campaign_trigger === "string") parts.push(trigger.campaign_trigger);
  if (typeof trigger.cron === "string") parts.push(trigger.cron);
  const conditions = Array.isArray(trigger.conditions) ? (trigger.conditions as Condition[]) : [];
  if (conditions.length === 1 && conditions[0]) parts.push(conditionText(conditions[0]));
  else if (conditions.length > 1) parts.push(`${conditions.length} conditions`);
  return parts.join(" · ");
}

/** A lead flow competes with the others for each new lead: the best priority that matches wins. */
export function isLeadFlow(trigger: Record<string, unknown> | null): boolean {
  return trigger?.type === "lead_created";
}

/** The campaign triggers a `campaign` flow is written for (the API refuses any other). */
export const CAMPAIGN_TRIGGERS = ["outbound_start", "inbound_start", "manual"];
