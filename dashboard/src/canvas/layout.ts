import { portsOf } from "./ports";
import type { FlowDefinition, FlowNode, NodePosition, StepInfo } from "./types";

/** The drawn size of a node (StepNode's CSS keeps to it). */
export const NODE_WIDTH = 220;
const HEADER_HEIGHT = 52;
const PORT_HEIGHT = 22;
const COLUMN_GAP = 120;
const ROW_GAP = 36;

export function nodeHeight(ports: number): number {
  return HEADER_HEIGHT + Math.max(ports, 1) * PORT_HEIGHT + 8;
}

interface Placed {
  node: FlowNode;
  ports: string[];
  layer: number;
  order: number;
}

/** Layers from `start` along the transitions (ports in order): a depth-first walk finds the
 * edges that loop back; every other edge goes one layer right at least (longest path).
 * Nodes nothing reaches start their own walk afterwards, in document order. */
function layers(definition: FlowDefinition, stepsByType: Map<string, StepInfo>): Map<string, Placed> {
  const byId = new Map(definition.nodes.map((node) => [node.id, node]));
  const placed = new Map<string, Placed>();
  const state = new Map<string, "open" | "done">();
  const finished: string[] = [];
  const forward = new Map<string, string[]>();

  const targets = (node: FlowNode, ports: string[]) =>
    ports.map((port) => node.transitions?.[port]).filter((id): id is string => id !== undefined && byId.has(id));

  const visit = (rootId: string) => {
    // Iterative, so a 1000-node chain cannot overflow the stack.
    const stack: { id: string; next: number; targets: string[] }[] = [];
    const open = (id: string) => {
      const node = byId.get(id)!;
      const ports = portsOf(node, stepsByType.get(node.type));
      placed.set(id, { node, ports, layer: 0, order: placed.size });
      state.set(id, "open");
      forward.set(id, []);
      stack.push({ id, next: 0, targets: targets(node, ports) });
    };
    open(rootId);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.next >= top.targets.length) {
        state.set(top.id, "done");
        finished.push(top.id);
        stack.pop();
        continue;
      }
      const target = top.targets[top.next++]!;
      const seen = state.get(target);
      if (seen === undefined) {
        forward.get(top.id)!.push(target);
        open(target);
      } else if (seen === "done") forward.get(top.id)!.push(target);
      // "open": an edge back into the walk (a loop); it does not push layers.
    }
  };

  if (byId.has(definition.start)) visit(definition.start);
  for (const node of definition.nodes) if (!state.has(node.id)) visit(node.id);

  // Reverse finishing order is a topological order of the forward edges.
  for (let i = finished.length - 1; i >= 0; i--) {
    const id = finished[i]!;
    const layer = placed.get(id)!.layer;
    for (const target of forward.get(id)!) {
      const next = placed.get(target)!;
      next.layer = Math.max(next.layer, layer + 1);
    }
  }
  return placed;
}

/** Positions for every node: layered left to right from `start`, each node near the ports
 * that lead to it, in port order, without overlaps. */
export function autoLayout(definition: FlowDefinition, steps: StepInfo[]): Map<string, NodePosition> {
  const stepsByType = new Map(steps.map((step) => [step.type, step]));
  const placed = layers(definition, stepsByType);
  const columns: Placed[][] = [];
  for (const entry of placed.values()) (columns[entry.layer] ??= []).push(entry);

  const positions = new Map<string, NodePosition>();
  const anchors = new Map<string, number[]>();
  columns.forEach((column, layer) => {
    const wanted = (entry: Placed) => {
      const ys = anchors.get(entry.node.id);
      return ys && ys.length > 0 ? Math.min(...ys) : Number.POSITIVE_INFINITY;
    };
    column.sort((a, b) => {
      const [wa, wb] = [wanted(a), wanted(b)];
      return (wa === wb ? 0 : wa < wb ? -1 : 1) || a.order - b.order;
    });
    let floor = 0;
    for (const entry of column) {
      const height = nodeHeight(entry.ports.length);
      const desired = wanted(entry);
      const y = Math.max(floor, Number.isFinite(desired) ? desired - HEADER_HEIGHT : floor);
      positions.set(entry.node.id, { x: layer * (NODE_WIDTH + COLUMN_GAP), y });
      floor = y + height + ROW_GAP;
      entry.ports.forEach((port, index) => {
        const target = entry.node.transitions?.[port];
        if (target === undefined) return;
        const targetEntry = placed.get(target);
        if (!targetEntry || targetEntry.layer <= layer) return;
        const list = anchors.get(target) ?? [];
        list.push(y + HEADER_HEIGHT + index * PORT_HEIGHT);
        anchors.set(target, list);
      });
    }
  });
  return positions;
}

/** Each node where it was put, or where the automatic layout puts it. */
export function positionsOf(definition: FlowDefinition, steps: StepInfo[]): Map<string, NodePosition> {
  const missing = definition.nodes.some((node) => !node.position);
  const layout = missing ? autoLayout(definition, steps) : new Map<string, NodePosition>();
  const positions = new Map<string, NodePosition>();
  for (const node of definition.nodes) {
    const given = node.position;
    positions.set(node.id, given && Number.isFinite(given.x) && Number.isFinite(given.y) ? given : (layout.get(node.id) ?? { x: 0, y: 0 }));
  }
  return positions;
}
