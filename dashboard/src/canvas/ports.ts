import type { FlowNode, StepInfo } from "./types";

function portsFrom(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  const ports: string[] = [];
  for (const item of list) {
    const port = typeof item === "object" && item !== null ? (item as { port?: unknown }).port : undefined;
    if (typeof port === "string" && port !== "" && !ports.includes(port)) ports.push(port);
  }
  return ports;
}

/** The outcome ports a node may have transitions for, in the catalogue's order: a split's
 * come from its `cases` (then `else`), an A/B split's from its `variants`. Ports the node
 * already uses but its type does not offer are kept at the end, so nothing disappears. */
export function portsOf(node: FlowNode, step: StepInfo | undefined): string[] {
  let ports: string[];
  if (node.type === "split") ports = [...portsFrom(node.config?.cases), "else"];
  else if (node.type === "ab_split") ports = portsFrom(node.config?.variants);
  else ports = step ? [...step.ports] : [];
  for (const used of Object.keys(node.transitions ?? {})) if (!ports.includes(used)) ports.push(used);
  return ports;
}
