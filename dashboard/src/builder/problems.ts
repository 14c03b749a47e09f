import type { Schemas } from "../api/client";
import type { FlowDefinition } from "../canvas/types";

export type Problem = Schemas["DraftProblem"];

export interface PlacedProblem {
  problem: Problem;
  /** The node it is about (by its id in the document that was saved), or null for the flow. */
  nodeId: string | null;
  /** The node's field: a config key (`config.url` → "config.url"), a node key ("transitions"), or "" for the node itself. */
  field: string;
}

const NODE_PATH = /^\$\.definition\.nodes\[(\d+)\](?:\.(.*))?$/;

/** Where each problem of a saved version is: its path's node index names a node of the
 * document that was saved; the rest of the path names the field. */
export function placeProblems(problems: readonly Problem[], saved: FlowDefinition): PlacedProblem[] {
  return problems.map((problem) => {
    const match = NODE_PATH.exec(problem.path);
    if (!match) return { problem, nodeId: null, field: problem.path.replace(/^\$\.definition\.?/, "") };
    const node = saved.nodes[Number(match[1])];
    const rest = match[2] ?? "";
    // `config.cases[0].when` → "config.cases"; `transitions.sent` → "transitions".
    const [head = "", second = ""] = rest.split(/[.[]/);
    const field = head === "config" && second ? `config.${second}` : head;
    return { problem, nodeId: node?.id ?? null, field };
  });
}

/** Each node's problems as lines for its badge and title. */
export function problemsByNode(placed: readonly PlacedProblem[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const { problem, nodeId, field } of placed) {
    if (nodeId === null) continue;
    const list = map.get(nodeId) ?? [];
    list.push(field ? `${field}: ${problem.message}` : problem.message);
    map.set(nodeId, list);
  }
  return map;
}

export function isError(problem: Problem): boolean {
  return problem.severity === "error";
}
