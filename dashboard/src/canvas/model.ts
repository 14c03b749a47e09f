import type { Edge, Node } from "@xyflow/react";

import { positionsOf } from "./layout";
import type { DiagramOverlay, NodeMark } from "./overlay";
import { portsOf } from "./ports";
import type { FlowDefinition, FlowNode, StepInfo } from "./types";

/** What StepNode draws for one node. */
export interface StepNodeData extends Record<string, unknown> {
  nodeId: string;
  title: string;
  typeLabel: string;
  category: string;
  ports: string[];
  connected: string[];
  isStart: boolean;
  mark: NodeMark | null;
  problems: number;
  problemText: string;
  editable: boolean;
}

export type StepFlowNode = Node<StepNodeData, "step">;

export interface NodeExtras {
  overlay?: DiagramOverlay | null;
  problems?: ReadonlyMap<string, string[]>;
  editable?: boolean;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

function sameData(a: StepNodeData, b: StepNodeData): boolean {
  return (
    a.nodeId === b.nodeId &&
    a.title === b.title &&
    a.typeLabel === b.typeLabel &&
    a.category === b.category &&
    sameList(a.ports, b.ports) &&
    sameList(a.connected, b.connected) &&
    a.isStart === b.isStart &&
    a.mark?.tone === b.mark?.tone &&
    a.mark?.badge === b.mark?.badge &&
    a.mark?.detail === b.mark?.detail &&
    (a.mark === null) === (b.mark === null) &&
    a.problems === b.problems &&
    a.problemText === b.problemText &&
    a.editable === b.editable
  );
}

export function stepNodeData(
  node: FlowNode,
  step: StepInfo | undefined,
  definition: FlowDefinition,
  extras: NodeExtras,
): StepNodeData {
  const ports = portsOf(node, step);
  const problems = extras.problems?.get(node.id) ?? [];
  return {
    nodeId: node.id,
    title: node.name || node.id,
    typeLabel: step?.label ?? `Unknown step "${node.type}"`,
    category: step?.category ?? "unknown",
    ports,
    connected: ports.filter((port) => node.transitions?.[port] !== undefined),
    isStart: definition.start === node.id,
    mark: extras.overlay?.nodes?.[node.id] ?? null,
    problems: problems.length,
    problemText: problems.join("\n"),
    editable: extras.editable ?? false,
  };
}

/** React Flow nodes for a document. `previous` (the last result) lends its objects to the
 * nodes that did not change, so React Flow and the memoised StepNode skip them. */
export function diagramNodes(
  definition: FlowDefinition,
  steps: StepInfo[],
  extras: NodeExtras,
  previous: readonly StepFlowNode[] = [],
  selected: string | null = null,
): StepFlowNode[] {
  const stepsByType = new Map(steps.map((step) => [step.type, step]));
  const positions = positionsOf(definition, steps);
  const before = new Map(previous.map((node) => [node.id, node]));
  return definition.nodes.map((node) => {
    const data = stepNodeData(node, stepsByType.get(node.type), definition, extras);
    const position = positions.get(node.id)!;
    const old = before.get(node.id);
    const isSelected = node.id === selected;
    if (old && sameData(old.data, data) && old.position.x === position.x && old.position.y === position.y && Boolean(old.selected) === isSelected) {
      return old;
    }
    return {
      id: node.id,
      type: "step",
      position,
      data: old && sameData(old.data, data) ? old.data : data,
      selected: isSelected,
      ...(old?.measured ? { measured: old.measured } : {}),
    };
  });
}

export const edgeKey = (nodeId: string, port: string) => `${nodeId}:${port}`;

/** One edge per transition to an existing node, labelled with its port (or the overlay's
 * label); `portLabels: false` leaves the port's name to the node's handle (the editor). */
export function diagramEdges(definition: FlowDefinition, overlay?: DiagramOverlay | null, selected: string | null = null, portLabels = true): Edge[] {
  const ids = new Set(definition.nodes.map((node) => node.id));
  const anyLit = Object.values(overlay?.edges ?? {}).some((mark) => mark.lit);
  const dimming = anyLit || Object.values(overlay?.nodes ?? {}).some((mark) => mark.tone === "dim");
  const edges: Edge[] = [];
  for (const node of definition.nodes) {
    for (const [port, target] of Object.entries(node.transitions ?? {})) {
      if (!ids.has(target)) continue;
      const key = edgeKey(node.id, port);
      const mark = overlay?.edges?.[key];
      const classes = ["flow-edge"];
      if (mark?.lit) classes.push("flow-edge-lit");
      else if (dimming) classes.push("flow-edge-dim");
      if (port === "error") classes.push("flow-edge-error");
      edges.push({
        id: key,
        source: node.id,
        sourceHandle: port,
        target,
        targetHandle: "in",
        label: mark?.label ?? (portLabels ? port : undefined),
        className: classes.join(" "),
        selected: key === selected,
        ...(mark?.lit ? { animated: true } : {}),
      });
    }
  }
  return edges;
}
