import type { Schemas } from "../api/client";

export type Channel = Schemas["TemplateCreate"]["channel"];

export const CHANNEL_LABELS: Record<Channel, string> = { email: "Email", sms: "SMS", whatsapp: "WhatsApp" };
export const CHANNELS = Object.keys(CHANNEL_LABELS) as Channel[];

export function channelLabel(channel: string): string {
  return CHANNEL_LABELS[channel as Channel] ?? channel;
}
