import "@xyflow/react/dist/style.css";
import "./canvas.css";

import {
  applyNodeChanges,
  Background,
  Controls,
  ReactFlow,
  useReactFlow,
  useStore,
  type NodeChange,
  type NodeMouseHandler,
} from "@xyflow/react";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";

import { diagramEdges, diagramNodes, type StepFlowNode } from "./model";
import type { DiagramOverlay } from "./overlay";
import { NODE_TYPES } from "./StepNode";
import type { FlowDefinition, StepInfo } from "./types";

const FIT = { padding: 0.15, maxZoom: 1.2 };

/** Fits the drawing again when its pane changes size (the window resized, a panel opened):
 * a read-only diagram has no view of the user's worth keeping, so it stays whole and centred. */
function RefitOnResize() {
  const { fitView } = useReactFlow();
  const width = useStore((state) => state.width);
  const height = useStore((state) => state.height);
  const measured = useRef(false);
  useEffect(() => {
    if (!measured.current) {
      measured.current = width > 0 && height > 0; // the first size is fitted by `fitView`
      return;
    }
    void fitView(FIT);
  }, [width, height, fitView]);
  return null;
}

interface FlowDiagramProps {
  definition: FlowDefinition;
  steps: StepInfo[];
  overlay?: DiagramOverlay | null;
  onNodeClick?: (nodeId: string) => void;
  selected?: string | null;
  height?: number | string;
}

/** A read-only drawing of a flow: each step with its ports, the transitions between them,
 * and what an overlay marks on them (a run's path, counts, a test's lit path). */
export function FlowDiagram({ definition, steps, overlay = null, onNodeClick, selected = null, height = 480 }: FlowDiagramProps) {
  // The nodes are kept with their measured sizes (React Flow reports them as changes): a node
  // made anew without them is hidden until measured again, and a live page that redraws often
  // (a run's path) could lose a measurement for good and leave its canvas blank.
  const [nodes, setNodes] = useState<StepFlowNode[]>(() => diagramNodes(definition, steps, { overlay }, [], selected));
  useEffect(() => {
    setNodes((previous) => diagramNodes(definition, steps, { overlay }, previous, selected));
  }, [definition, steps, overlay, selected]);
  const onNodesChange = useCallback(
    (changes: NodeChange<StepFlowNode>[]) => setNodes((current) => applyNodeChanges(changes, current)),
    [],
  );
  const edges = useMemo(() => diagramEdges(definition, overlay), [definition, overlay]);
  const click: NodeMouseHandler<StepFlowNode> | undefined = onNodeClick ? (_, node) => onNodeClick(node.id) : undefined;

  return (
    <div className={onNodeClick ? "flow-canvas flow-diagram flow-diagram-clickable" : "flow-canvas flow-diagram"} style={{ height }} data-testid="flow-diagram">
      <ReactFlow<StepFlowNode>
        nodes={nodes}
        edges={edges}
        nodeTypes={NODE_TYPES}
        onNodesChange={onNodesChange}
        onNodeClick={click}
        nodesDraggable={false}
        nodesConnectable={false}
        elementsSelectable={Boolean(onNodeClick)}
        edgesFocusable={false}
        deleteKeyCode={null}
        fitView
        fitViewOptions={FIT}
        minZoom={0.1}
      >
        <Background gap={20} />
        <Controls showInteractive={false} fitViewOptions={FIT} />
        <RefitOnResize />
      </ReactFlow>
    </div>
  );
}
