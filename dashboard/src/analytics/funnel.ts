// The per-node funnel of a flow's report, laid over one version's graph: how many runs reached
// each node, left it by each port, and went no further.

import type { Schemas } from "../api/client";
import type { DiagramOverlay, FlowDefinition } from "../canvas";
import { percent } from "./figures";

interface GraphNode {
  id: string;
  type: string;
  /** Port → next node id, in the document's order. */
  transitions: [string, string][];
}

function graphOf(definition: FlowDefinition): { start: string | null; nodes: GraphNode[] } {
  return {
    start: definition.start || null,
    nodes: definition.nodes.map((node) => ({
      id: node.id,
      type: node.type,
      transitions: Object.entries(node.transitions ?? {}).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
    })),
  };
}

export interface PortTaken {
  port: string;
  target: string | null;
  executions: number;
}

export interface FunnelRow {
  nodeId: string;
  type: string | null;
  reached: number;
  /** Share of the runs that reached the start node (of all runs when none did). */
  share: number;
  ports: PortTaken[];
  /** Reached it and left by no port: ended, failed, still waiting, or cancelled there. */
  stopped: number;
  /** The node is not in the version drawn (runs of another version reached it). */
  elsewhere: boolean;
}

type Report = Pick<Schemas["FlowReport"], "runs" | "funnel" | "edges">;

/** The graph's nodes from the start, breadth first (then any the start does not reach), and the
 * nodes only other versions have, each with its figures. */
export function funnelRows(definition: FlowDefinition, report: Report): FunnelRow[] {
  const graph = graphOf(definition);
  const reached = new Map(report.funnel.map((node) => [node.node_id, node.executions]));
  const left = new Map<string, Map<string, number>>();
  for (const edge of report.edges) {
    const ports = left.get(edge.node_id) ?? new Map<string, number>();
    ports.set(edge.port, edge.executions);
    left.set(edge.node_id, ports);
  }
  const base = (graph.start !== null ? reached.get(graph.start) : undefined) || report.runs;
  const byId = new Map(graph.nodes.map((node) => [node.id, node]));

  const order: string[] = [];
  const queue = graph.start !== null && byId.has(graph.start) ? [graph.start] : [];
  while (queue.length > 0) {
    const id = queue.shift()!;
    if (order.includes(id)) continue;
    order.push(id);
    for (const [, target] of byId.get(id)?.transitions ?? []) if (byId.has(target)) queue.push(target);
  }
  for (const node of graph.nodes) if (!order.includes(node.id)) order.push(node.id);
  const others = report.funnel.map((node) => node.node_id).filter((id) => !byId.has(id));

  return [...order, ...others].map((id) => {
    const node = byId.get(id);
    const ports = left.get(id) ?? new Map<string, number>();
    const taken: PortTaken[] = node
      ? [
          ...node.transitions.map(([port, target]) => ({ port, target, executions: ports.get(port) ?? 0 })),
          // Ports the runs took that the drawn version does not wire (a branch's end, or another version).
          ...[...ports]
            .filter(([port]) => !node.transitions.some(([wired]) => wired === port))
            .map(([port, executions]) => ({ port, target: null, executions })),
        ]
      : [...ports].map(([port, executions]) => ({ port, target: null, executions }));
    const count = reached.get(id) ?? 0;
    const out = taken.reduce((sum, port) => sum + port.executions, 0);
    return {
      nodeId: id,
      type: node?.type ?? null,
      reached: count,
      share: base > 0 ? count / base : 0,
      ports: taken,
      stopped: Math.max(0, count - out),
      elsewhere: node === undefined,
    };
  });
}

/** The funnel drawn on the canvas: each node's count and share as a badge (those nobody
 * reached dimmed), each edge labelled with its port and the runs that took it. */
export function funnelOverlay(rows: FunnelRow[]): DiagramOverlay {
  const overlay: Required<DiagramOverlay> = { nodes: {}, edges: {} };
  for (const row of rows) {
    if (row.elsewhere) continue;
    overlay.nodes[row.nodeId] =
      row.reached === 0
        ? { tone: "dim", badge: "0", detail: "No run reached this step." }
        : {
            badge: `${row.reached} · ${percent(row.share)}`,
            detail: `${row.reached} ${row.reached === 1 ? "run" : "runs"} reached this step (${percent(row.share)} of those that started)${
              row.stopped > 0 ? `; ${row.stopped} went no further` : ""
            }.`,
          };
    for (const port of row.ports) {
      if (port.target === null) continue;
      overlay.edges[`${row.nodeId}:${port.port}`] = { label: `${port.port}: ${port.executions}`, lit: port.executions > 0 };
    }
  }
  return overlay;
}
