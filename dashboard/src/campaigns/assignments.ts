import type { Flow, Schemas } from "../api/client";

export type Assignment = Schemas["CampaignFlowOut"];
export type CampaignTrigger = Assignment["trigger"];
export type Condition = Schemas["CampaignCondition"];

/** A campaign's triggers, each with a short name and when it fires, in the order offered. */
export const CAMPAIGN_TRIGGERS: { value: CampaignTrigger; name: string; when: string; how: string }[] = [
  {
    value: "outbound_start",
    name: "Outbound start",
    when: "when an outbound campaign call is answered",
    how: "an ai_call step of a run for the campaign is answered (voicemail is not).",
  },
  {
    value: "inbound_start",
    name: "Inbound start",
    when: "when someone calls a number deployed with the campaign",
    how: "a call comes in to a phone number whose deployment names the campaign.",
  },
  {
    value: "manual",
    name: "Manual",
    when: "when fired through the API",
    how: "POST /api/campaigns/{id}/flows/trigger, with the call, the agent and the contact.",
  },
];

export function triggerOf(value: string) {
  return CAMPAIGN_TRIGGERS.find((trigger) => trigger.value === value);
}

/** The trigger a flow was written for (its own `campaign` trigger), if any: informational, since
 * an assignment may name another one. */
export function writtenFor(flow: Flow): CampaignTrigger | null {
  const value = flow.trigger?.type === "campaign" ? flow.trigger.campaign_trigger : null;
  return typeof value === "string" && triggerOf(value) ? (value as CampaignTrigger) : null;
}

/** Why an assignment of this flow can never start it, or null when it can: only an enabled,
 * published flow is chosen. */
export function whyNeverStarts(flow: Flow | undefined): string | null {
  if (!flow) return null;
  if (flow.published_version === null) return "not published";
  if (!flow.enabled) return "disabled";
  return null;
}

const SUBJECTS: Record<string, string> = {
  "trigger.agent_id": "the agent",
  "trigger.call_id": "the call id",
  lead_source: "the lead source",
  entry_type: "the entry type",
  name: "the contact's name",
  email: "the contact's email",
  phone: "the contact's phone",
};

const VERBS: Record<string, string> = { eq: "is", ne: "is not", contains: "contains", any: "is one of" };
/** A list (the contact's tags) is compared item by item. */
const LIST_VERBS: Record<string, string> = { eq: "include", ne: "do not include", contains: "include", any: "include one of" };

function subject(field: string): string {
  if (SUBJECTS[field]) return SUBJECTS[field];
  if (field.startsWith("trigger.context.")) return `the call's ${field.slice("trigger.context.".length)}`;
  if (field.startsWith("custom.")) return `the contact's ${field.slice("custom.".length)}`;
  return field;
}

function shown(value: unknown): string {
  if (Array.isArray(value)) return value.map(shown).join(", ");
  return typeof value === "string" ? `“${value}”` : JSON.stringify(value);
}

/** One condition in words: "the agent is “agent-9”", "the contact's tags include “vip”". */
export function conditionInWords(condition: Record<string, unknown>): string {
  const field = String(condition.field ?? "");
  const op = String(condition.op ?? "");
  if (field === "tags") return `the contact's tags ${LIST_VERBS[op] ?? op} ${shown(condition.value)}`;
  return `${subject(field)} ${VERBS[op] ?? op} ${shown(condition.value)}`;
}

/** An assignment's conditions in words, all of which must hold; "every call" when none. */
export function conditionsInWords(conditions: Record<string, unknown>[]): string {
  if (conditions.length === 0) return "every call";
  return conditions.map(conditionInWords).join(" and ");
}
