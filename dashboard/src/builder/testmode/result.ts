import type { Schemas } from "../../api/client";
import type { DiagramOverlay, NodeMark } from "../../canvas/overlay";
import type { FlowDefinition } from "../../canvas/types";

/** One step of a dry run, as `workflows/dryrun.py` records it. */
export interface TestStep {
  nodeId: string;
  type: string;
  port: string | null;
  rendered: Record<string, unknown> | null;
  result: unknown;
  waitsUntil: string | null;
  error: string | null;
  skipped: string | null;
  missingVariable: string | null;
}

export interface TestSkip {
  nodeId: string | null;
  reason: string;
  waitsUntil: string | null;
}

const text = (value: unknown): string | null => (typeof value === "string" ? value : null);
const record = (value: unknown): Record<string, unknown> | null =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;

export function stepsOf(run: Schemas["DryRunOut"]): TestStep[] {
  return run.steps.map((raw) => ({
    nodeId: text(raw.node_id) ?? "?",
    type: text(raw.type) ?? "?",
    port: text(raw.port),
    rendered: record(raw.rendered),
    result: raw.result,
    waitsUntil: text(raw.waits_until),
    // A step forced to its failure port carries the simulated failure in its result.
    error: text(raw.error) ?? text(record(raw.result)?.error),
    skipped: text(raw.skipped),
    missingVariable: text(raw.missing_variable),
  }));
}

export function skipsOf(run: Schemas["DryRunOut"]): TestSkip[] {
  return run.skips.map((raw) => ({
    nodeId: text(raw.node_id),
    reason: text(raw.reason) ?? "skipped",
    waitsUntil: text(raw.waits_until),
  }));
}

function markOf(step: TestStep, badges: string[]): NodeMark {
  const badge = badges.join(", ");
  if (step.skipped) return { tone: "skipped", badge, detail: `Skipped: ${step.skipped}` };
  if (step.error) return { tone: "failed", badge, detail: step.error };
  if (step.waitsUntil) return { tone: "lit", badge, detail: `Waits until ${new Date(step.waitsUntil).toLocaleString()}` };
  return { tone: "lit", badge, detail: step.port ? `→ ${step.port}` : "ends here" };
}

/** The path on the canvas: each reached node lit with its place(s) in the run ("1", "2"…),
 * skipped and failed ones with the reason, the edges taken lit, every other node dimmed. */
export function overlayOf(definition: FlowDefinition, steps: TestStep[], skips: TestSkip[]): DiagramOverlay {
  const places = new Map<string, string[]>();
  steps.forEach((step, index) => places.set(step.nodeId, [...(places.get(step.nodeId) ?? []), String(index + 1)]));
  const nodes: Record<string, NodeMark> = {};
  for (const node of definition.nodes) nodes[node.id] = { tone: "dim" };
  const lastOf = new Map<string, TestStep>();
  for (const step of steps) lastOf.set(step.nodeId, step);
  for (const [nodeId, step] of lastOf) nodes[nodeId] = markOf(step, places.get(nodeId) ?? []);
  for (const skip of skips) {
    if (skip.nodeId && nodes[skip.nodeId]) nodes[skip.nodeId] = { ...nodes[skip.nodeId], tone: "skipped", detail: `Skipped: ${skip.reason}` };
  }
  const edges: NonNullable<DiagramOverlay["edges"]> = {};
  const byId = new Map(definition.nodes.map((node) => [node.id, node]));
  for (const step of steps) {
    if (step.port && byId.get(step.nodeId)?.transitions?.[step.port]) edges[`${step.nodeId}:${step.port}`] = { lit: true };
  }
  return { nodes, edges };
}
