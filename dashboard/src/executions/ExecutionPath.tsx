import { useMemo } from "react";

import { FlowDiagram, type DiagramOverlay, type FlowDefinition, type MarkTone, type StepInfo } from "../canvas";
import { duration, statusLabel, type ExecutionStep } from "./format";

const TONES: Record<string, MarkTone> = {
  success: "done",
  failed: "failed",
  waiting: "waiting",
  running: "lit",
  skipped: "skipped",
};

/** The run's path as marks on its flow: steps taken done (or failed, skipped), the one it
 * waits on waiting, the ports it left by lit, the rest dim; a step taken more than once
 * carries its count. */
export function pathOverlay(definition: FlowDefinition, steps: ExecutionStep[]): DiagramOverlay {
  const overlay: Required<DiagramOverlay> = { nodes: {}, edges: {} };
  const visits = new Map<string, number>();
  for (const step of steps) visits.set(step.node_id, (visits.get(step.node_id) ?? 0) + 1);
  for (const node of definition.nodes) overlay.nodes[node.id] = { tone: "dim" };
  for (const step of steps) {
    const count = visits.get(step.node_id) ?? 1;
    overlay.nodes[step.node_id] = {
      tone: TONES[step.status] ?? "lit",
      badge: count > 1 ? `×${count}` : undefined,
      detail: `${statusLabel(step.status)}${step.port ? ` → ${step.port}` : ""} · ${duration(step.duration_ms)}`,
    };
    if (step.port) overlay.edges[`${step.node_id}:${step.port}`] = { lit: true };
  }
  return overlay;
}

interface ExecutionPathProps {
  definition: FlowDefinition;
  catalogue: StepInfo[];
  steps: ExecutionStep[];
  selected: string | null;
  onSelect: (nodeId: string) => void;
}

/** The flow at the run's pinned version, with the run's path drawn over it. */
export function ExecutionPath({ definition, catalogue, steps, selected, onSelect }: ExecutionPathProps) {
  const overlay = useMemo(() => pathOverlay(definition, steps), [definition, steps]);
  return (
    <div className="execution-path">
      <FlowDiagram definition={definition} steps={catalogue} overlay={overlay} selected={selected} onNodeClick={onSelect} height={420} />
      <ul className="path-legend" aria-label="Legend">
        <li>
          <span className="legend-swatch legend-done" /> taken
        </li>
        <li>
          <span className="legend-swatch legend-waiting" /> waiting here
        </li>
        <li>
          <span className="legend-swatch legend-failed" /> failed
        </li>
        <li>
          <span className="legend-swatch legend-dim" /> not reached
        </li>
      </ul>
    </div>
  );
}
