import type { FlowNode } from "../canvas";

const LIMIT = 160;

function short(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "string") return value.length > 60 ? `${value.slice(0, 57)}…` : value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `[${value.length}]`;
  return "{…}";
}

/** What a step was asked to do, in a line: its config's settings (`body: Hi {{ contact.name }}`,
 * `hours: 1`), from the pinned version's node. */
export function inputSummary(node: FlowNode | undefined): string {
  if (!node) return "";
  const parts = Object.entries(node.config ?? {})
    .filter(([, value]) => value !== null && value !== undefined && value !== "")
    .map(([key, value]) => `${key}: ${short(value)}`);
  const text = parts.join(" · ");
  return text.length > LIMIT ? `${text.slice(0, LIMIT - 1)}…` : text;
}
