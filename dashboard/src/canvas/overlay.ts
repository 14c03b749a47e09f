export type MarkTone = "lit" | "done" | "failed" | "skipped" | "waiting" | "dim";
export interface NodeMark { tone?: MarkTone; badge?: string; detail?: string }
/** What is drawn over a flow: marks on nodes (by node id) and on edges (key `${nodeId}:${port}`). */
export interface DiagramOverlay {
  nodes?: Record<string, NodeMark>;
  edges?: Record<string, { label?: string; lit?: boolean }>;
}
