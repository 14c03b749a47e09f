import type { FlowDefinition } from "../canvas/types";

const CONTACT = ["contact.name", "contact.phone", "contact.email", "contact.lead_source", "contact.entry_type", "contact.tags", "contact.custom"];
const CALL = ["call.from", "call.to", "call.digits", "call.speech"];
const TRIGGER = ["trigger.type", "trigger.event", "trigger.payload"];
const EXECUTION = ["execution.id", "execution.flow", "execution.version", "execution.test"];

export interface VariableGroup {
  label: string;
  names: string[];
}

/** The nodes that can run before `nodeId`: every node from which a path of transitions leads to it. */
export function upstreamOf(definition: FlowDefinition, nodeId: string): string[] {
  const incoming = new Map<string, string[]>();
  for (const node of definition.nodes) {
    for (const target of Object.values(node.transitions ?? {})) incoming.set(target, [...(incoming.get(target) ?? []), node.id]);
  }
  const seen = new Set<string>();
  const queue = [nodeId];
  while (queue.length > 0) {
    for (const source of incoming.get(queue.shift()!) ?? []) {
      if (!seen.has(source) && source !== nodeId) {
        seen.add(source);
        queue.push(source);
      }
    }
  }
  return definition.nodes.map((node) => node.id).filter((id) => seen.has(id));
}

/** The variables a template of this node can read: the contact, the flow's variables and
 * those upstream `set` steps assign, upstream steps' results, the call, the trigger and the
 * execution. */
export function variablesInScope(definition: FlowDefinition, nodeId: string | null): VariableGroup[] {
  const upstream = nodeId === null ? [] : upstreamOf(definition, nodeId);
  const vars = new Set(Object.keys(definition.variables ?? {}));
  for (const node of definition.nodes) {
    if (node.type !== "set" || !upstream.includes(node.id)) continue;
    const assign = node.config?.assign;
    if (assign && typeof assign === "object") Object.keys(assign).forEach((name) => vars.add(name));
  }
  return [
    { label: "Contact", names: CONTACT },
    { label: "Variables", names: [...vars].sort().map((name) => `vars.${name}`) },
    { label: "Earlier steps", names: upstream.map((id) => `steps.${id}`) },
    { label: "Call", names: CALL },
    { label: "Trigger", names: TRIGGER },
    { label: "Execution", names: EXECUTION },
  ].filter((group) => group.names.length > 0);
}
