import type { Schemas } from "../api/client";

export type OutboxItem = Schemas["OutboxItem"];

/** Call statuses that are not an outcome yet (the API's WAITING_CALL). */
const UNDECIDED_CALL = new Set(["queued", "initiated", "ringing", "in-progress"]);

export const CALL_OUTCOMES = ["answered", "missed", "busy", "failed", "voicemail"] as const;
export type CallOutcome = (typeof CALL_OUTCOMES)[number];

export const CHANNEL_LABELS: Record<string, string> = { sms: "SMS", whatsapp: "WhatsApp", email: "Email", voice: "Call" };

/** What a sandbox send could be waiting for: a call's outcome, or a reply to a question. */
export function awaits(item: OutboxItem): "call" | "reply" | null {
  if (item.provider !== "sandbox" || item.execution_id === null) return null;
  if (item.channel === "voice" && UNDECIDED_CALL.has(item.status)) return "call";
  if ((item.channel === "sms" || item.channel === "whatsapp") && item.content?.awaiting_reply === true) return "reply";
  return null;
}

function text(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}

/** The message as its recipient would have read it, or what the call was. */
export function summary(item: OutboxItem): string {
  const content = item.content ?? {};
  if (item.channel === "voice") {
    const agent = text(content.agent_id);
    return agent ? `AI call with the agent ${agent}` : "Phone call";
  }
  if (item.channel === "email") return text(content.text) ?? text(content.html) ?? "";
  const body = text(content.body);
  if (body !== null) return body;
  if (text(content.template)) {
    const params = Object.entries((content.params as Record<string, unknown> | undefined) ?? {});
    const shown = params.map(([key, value]) => `{{${key}}} = ${String(value)}`).join(", ");
    return `Template ${String(content.template)}${shown ? ` (${shown})` : ""}`;
  }
  return JSON.stringify(content);
}
