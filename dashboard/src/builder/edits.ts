// Pure changes to a flow document, one per thing the builder lets a user do. Each returns a
// new document and leaves the nodes it does not touch as they were (same objects), so the
// canvas redraws only what changed.
import { autoLayout, NODE_WIDTH, nodeHeight, positionsOf } from "../canvas/layout";
import { portsOf } from "../canvas/ports";
import type { FlowDefinition, FlowNode, NodePosition, StepInfo } from "../canvas/types";

export const NODE_ID_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]*$/;

function replaceNode(definition: FlowDefinition, id: string, change: (node: FlowNode) => FlowNode): FlowDefinition {
  return { ...definition, nodes: definition.nodes.map((node) => (node.id === id ? change(node) : node)) };
}

/** Every node with a stored position (where the automatic layout has drawn it until now),
 * so that moving one node does not move the others. */
export function withPositions(definition: FlowDefinition, steps: StepInfo[]): FlowDefinition {
  if (definition.nodes.every((node) => node.position)) return definition;
  const positions = positionsOf(definition, steps);
  return {
    ...definition,
    nodes: definition.nodes.map((node) => (node.position ? node : { ...node, position: positions.get(node.id)! })),
  };
}

/** An id for a new node of a type: the type itself, else the type and a number. */
export function freshId(definition: FlowDefinition, type: string): string {
  const taken = new Set(definition.nodes.map((node) => node.id));
  if (!taken.has(type)) return type;
  for (let n = 2; ; n++) if (!taken.has(`${type}_${n}`)) return `${type}_${n}`;
}

const round = (position: NodePosition): NodePosition => ({ x: Math.round(position.x), y: Math.round(position.y) });

export function addNode(definition: FlowDefinition, type: string, position: NodePosition, wanted?: string): { definition: FlowDefinition; id: string } {
  const id = wanted && !definition.nodes.some((node) => node.id === wanted) ? wanted : freshId(definition, type);
  const node: FlowNode = { id, type, config: {}, transitions: {}, position: round(position) };
  const start = definition.nodes.length === 0 || !definition.start ? id : definition.start;
  return { definition: { ...definition, start, nodes: [...definition.nodes, node] }, id };
}

export function deleteNodes(definition: FlowDefinition, ids: readonly string[]): FlowDefinition {
  const gone = new Set(ids);
  const nodes = definition.nodes
    .filter((node) => !gone.has(node.id))
    .map((node) => {
      const transitions = node.transitions ?? {};
      if (!Object.values(transitions).some((target) => gone.has(target))) return node;
      return { ...node, transitions: Object.fromEntries(Object.entries(transitions).filter(([, target]) => !gone.has(target))) };
    });
  const start = gone.has(definition.start) ? (nodes[0]?.id ?? "") : definition.start;
  return { ...definition, start, nodes };
}

export function connect(definition: FlowDefinition, source: string, port: string, target: string): FlowDefinition {
  return replaceNode(definition, source, (node) => ({ ...node, transitions: { ...node.transitions, [port]: target } }));
}

export function disconnect(definition: FlowDefinition, source: string, port: string): FlowDefinition {
  return replaceNode(definition, source, (node) => {
    const { [port]: _gone, ...rest } = node.transitions ?? {};
    return { ...node, transitions: rest };
  });
}

export function moveNodes(definition: FlowDefinition, moved: ReadonlyMap<string, NodePosition>): FlowDefinition {
  return {
    ...definition,
    nodes: definition.nodes.map((node) => {
      const position = moved.get(node.id);
      return position ? { ...node, position: round(position) } : node;
    }),
  };
}

export function updateNode(definition: FlowDefinition, id: string, change: Partial<FlowNode>): FlowDefinition {
  return replaceNode(definition, id, (node) => {
    const next: FlowNode = { ...node, ...change };
    for (const [key, value] of Object.entries(change)) if (value === undefined) delete next[key];
    return next;
  });
}

/** A node's new id, and every transition, branch and the start that named the old one. */
export function renameNode(definition: FlowDefinition, from: string, to: string): FlowDefinition {
  const rename = (id: string) => (id === from ? to : id);
  return {
    ...definition,
    start: rename(definition.start),
    nodes: definition.nodes.map((node) => {
      let next = node.id === from ? { ...node, id: to } : node;
      const transitions = next.transitions ?? {};
      if (Object.values(transitions).includes(from)) {
        next = { ...next, transitions: Object.fromEntries(Object.entries(transitions).map(([port, target]) => [port, rename(target)])) };
      }
      const branches = next.config?.branches;
      if (next.type === "parallel" && Array.isArray(branches) && branches.includes(from)) {
        next = { ...next, config: { ...next.config, branches: branches.map((id) => (typeof id === "string" ? rename(id) : id)) } };
      }
      return next;
    }),
  };
}

export function setStart(definition: FlowDefinition, id: string): FlowDefinition {
  return { ...definition, start: id };
}

export function layoutAll(definition: FlowDefinition, steps: StepInfo[]): FlowDefinition {
  const positions = autoLayout(definition, steps);
  return moveNodes(definition, positions);
}

/** Why a new id cannot be used, or null. */
export function idProblem(definition: FlowDefinition, current: string, wanted: string): string | null {
  if (wanted === current) return null;
  if (!NODE_ID_PATTERN.test(wanted)) return "Use letters, digits, _ and -, starting with a letter or _.";
  if (wanted.length > 64) return "At most 64 characters.";
  if (definition.nodes.some((node) => node.id === wanted)) return `Another step is called "${wanted}".`;
  return null;
}

export function setVariables(definition: FlowDefinition, variables: Record<string, unknown> | undefined): FlowDefinition {
  const { variables: _old, ...rest } = definition;
  return variables === undefined ? rest : { ...rest, variables };
}

/** The first place from `at` (going down, then right) where a new step overlaps none. */
export function freeSpot(definition: FlowDefinition, steps: StepInfo[], at: NodePosition): NodePosition {
  const stepsByType = new Map(steps.map((step) => [step.type, step]));
  const positions = positionsOf(definition, steps);
  const boxes = definition.nodes.map((node) => {
    const p = positions.get(node.id)!;
    return { x: p.x, y: p.y, w: NODE_WIDTH, h: nodeHeight(portsOf(node, stepsByType.get(node.type)).length) };
  });
  const gap = 16;
  const free = (x: number, y: number) =>
    boxes.every((b) => x + NODE_WIDTH + gap <= b.x || b.x + b.w + gap <= x || y + 120 + gap <= b.y || b.y + b.h + gap <= y);
  for (let column = 0; column < 20; column++) {
    for (let row = 0; row < 12; row++) {
      const x = at.x + column * (NODE_WIDTH + 40);
      const y = at.y + row * 50;
      if (free(x, y)) return { x, y };
    }
  }
  return at;
}
