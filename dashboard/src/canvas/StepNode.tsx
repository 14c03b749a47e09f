import { Handle, Position, type NodeProps } from "@xyflow/react";
import { memo } from "react";

import type { StepFlowNode } from "./model";

/** One step on a canvas: its type and name, its marks, and a labelled handle per port.
 * Memoised: a drag or an edit elsewhere does not redraw it. */
function StepNodeView({ data, selected }: NodeProps<StepFlowNode>) {
  const classes = ["step-node", `step-cat-${data.category}`];
  if (selected) classes.push("step-node-selected");
  if (data.problems > 0) classes.push("step-node-problems");
  if (data.mark?.tone) classes.push(`step-tone-${data.mark.tone}`);
  const label = `${data.typeLabel} ${data.title}${data.isStart ? ", start" : ""}${data.problems ? `, ${data.problems} problem${data.problems > 1 ? "s" : ""}` : ""}`;
  return (
    <div className={classes.join(" ")} data-node-id={data.nodeId} aria-label={label} title={data.mark?.detail ?? (data.problemText || undefined)}>
      <Handle type="target" position={Position.Left} id="in" className="step-handle step-handle-in" isConnectable={data.editable} />
      <div className="step-node-head">
        <span className="step-node-type">{data.typeLabel}</span>
        <span className="step-node-badges">
          {data.isStart && <span className="step-badge step-badge-start">start</span>}
          {data.problems > 0 && (
            <span className="step-badge step-badge-problems" data-testid="node-problems">
              {data.problems}
            </span>
          )}
          {data.mark?.badge && (
            <span className="step-badge step-badge-mark" data-testid="node-badge">
              {data.mark.badge}
            </span>
          )}
        </span>
      </div>
      <div className="step-node-title">
        {data.title}
        {data.title !== data.nodeId && <span className="step-node-id"> · {data.nodeId}</span>}
      </div>
      <ul className="step-node-ports">
        {data.ports.length === 0 && <li className="step-port step-port-none">ends here</li>}
        {data.ports.map((port) => (
          <li key={port} className={data.connected.includes(port) ? "step-port step-port-connected" : "step-port"}>
            <span className="step-port-label">{port}</span>
            <Handle
              type="source"
              position={Position.Right}
              id={port}
              className={port === "error" ? "step-handle step-handle-error" : "step-handle"}
              isConnectable={data.editable}
              aria-label={`${data.nodeId} port ${port}`}
            />
          </li>
        ))}
      </ul>
    </div>
  );
}

export const StepNode = memo(StepNodeView);

/** The node types every canvas registers (a constant: React Flow warns about new objects). */
export const NODE_TYPES = { step: StepNode };
