import type { Schemas } from "../api/client";

/** One step type of the catalogue (GET /api/steps): label, category, ports, config schema. */
export type StepInfo = Schemas["StepTypeOut"];

export interface NodePosition {
  x: number;
  y: number;
}

/** One node of a flow document (SPEC §3), as the editor and the diagrams read it. */
export interface FlowNode {
  id: string;
  type: string;
  name?: string | null;
  config?: Record<string, unknown>;
  transitions?: Record<string, string>;
  retry?: Record<string, unknown> | null;
  timeout_s?: number | null;
  continue_on_error?: boolean;
  position?: NodePosition | null;
  [key: string]: unknown;
}

/** A flow version's document: `start`, flow `variables`, `nodes`. */
export interface FlowDefinition {
  start: string;
  variables?: Record<string, unknown>;
  nodes: FlowNode[];
  [key: string]: unknown;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A version's stored definition read as a document, whatever shape an unfinished draft has. */
export function asDefinition(raw: unknown): FlowDefinition {
  const source = isObject(raw) ? raw : {};
  const nodes = Array.isArray(source.nodes) ? source.nodes.filter(isObject) : [];
  return {
    ...source,
    start: typeof source.start === "string" ? source.start : "",
    nodes: nodes.map((node) => ({ ...node, id: String(node.id ?? ""), type: String(node.type ?? "") })),
  };
}
