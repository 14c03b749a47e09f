import "@xyflow/react/dist/style.css";
import "../canvas/canvas.css";

import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  applyNodeChanges,
  useReactFlow,
  type Connection,
  type Edge,
  type EdgeChange,
  type NodeChange,
  type OnDelete,
} from "@xyflow/react";
import { useCallback, useEffect, useMemo, useState, type DragEvent } from "react";

import { diagramEdges, diagramNodes, type StepFlowNode } from "../canvas/model";
import type { DiagramOverlay } from "../canvas/overlay";
import { NODE_TYPES } from "../canvas/StepNode";
import type { FlowDefinition, NodePosition, StepInfo } from "../canvas/types";
import { STEP_DRAG_TYPE } from "./Palette";

const FIT = { padding: 0.2, maxZoom: 1.1 };

export type Selection = { kind: "node"; id: string } | { kind: "edge"; id: string } | null;

interface EditorCanvasProps {
  definition: FlowDefinition;
  steps: StepInfo[];
  overlay: DiagramOverlay | null;
  problems: ReadonlyMap<string, string[]>;
  selection: Selection;
  canEdit: boolean;
  onSelect: (selection: Selection) => void;
  onMove: (moved: ReadonlyMap<string, NodePosition>) => void;
  onConnect: (source: string, port: string, target: string) => void;
  onDelete: (nodes: string[], edges: { source: string; port: string }[]) => void;
  onDropStep: (type: string, position: NodePosition) => void;
}

/** The editable canvas. Node objects are kept between renders (only what changed is new),
 * a drag moves nodes locally and reaches the document once, when it stops. */
export function EditorCanvas({ definition, steps, overlay, problems, selection, canEdit, onSelect, onMove, onConnect, onDelete, onDropStep }: EditorCanvasProps) {
  const flow = useReactFlow<StepFlowNode>();
  const selectedNode = selection?.kind === "node" ? selection.id : null;
  const selectedEdge = selection?.kind === "edge" ? selection.id : null;
  const [nodes, setNodes] = useState<StepFlowNode[]>(() => diagramNodes(definition, steps, { overlay, problems, editable: canEdit }, [], selectedNode));

  useEffect(() => {
    setNodes((previous) => diagramNodes(definition, steps, { overlay, problems, editable: canEdit }, previous, selectedNode));
  }, [definition, steps, overlay, problems, canEdit, selectedNode]);

  // Fit the view to what is there when the page opens; an empty canvas stays at 100 % (React
  // Flow would otherwise fit to the first step dropped on it and jump).
  const [fitOnOpen] = useState(definition.nodes.length > 0);
  const edges = useMemo(() => diagramEdges(definition, overlay, selectedEdge, false), [definition, overlay, selectedEdge]);

  const onNodesChange = useCallback(
    (changes: NodeChange<StepFlowNode>[]) => {
      const kept = changes.filter((change) => change.type !== "remove");
      setNodes((current) => applyNodeChanges(kept, current));
      const moved = new Map<string, NodePosition>();
      for (const change of kept) {
        if (change.type === "position" && change.dragging === false && change.position) moved.set(change.id, change.position);
        if (change.type === "select" && change.selected) onSelect({ kind: "node", id: change.id });
      }
      if (moved.size > 0) onMove(moved);
    },
    [onMove, onSelect],
  );

  const onEdgesChange = useCallback(
    (changes: EdgeChange[]) => {
      for (const change of changes) if (change.type === "select" && change.selected) onSelect({ kind: "edge", id: change.id });
    },
    [onSelect],
  );

  const connect = useCallback(
    (connection: Connection) => {
      if (connection.sourceHandle) onConnect(connection.source, connection.sourceHandle, connection.target);
    },
    [onConnect],
  );

  const remove: OnDelete<StepFlowNode, Edge> = useCallback(
    ({ nodes: gone, edges: cut }) =>
      onDelete(
        gone.map((node) => node.id),
        cut.map((edge) => ({ source: edge.source, port: edge.sourceHandle ?? "" })),
      ),
    [onDelete],
  );

  function drop(event: DragEvent) {
    const type = event.dataTransfer.getData(STEP_DRAG_TYPE);
    if (!type || !canEdit) return;
    event.preventDefault();
    const at = flow.screenToFlowPosition({ x: event.clientX, y: event.clientY });
    onDropStep(type, { x: at.x - 110, y: at.y - 20 });
  }

  return (
    <div
      className="flow-canvas builder-canvas"
      data-testid="builder-canvas"
      onDragOver={(event) => {
        if (canEdit && event.dataTransfer.types.includes(STEP_DRAG_TYPE)) {
          event.preventDefault();
          event.dataTransfer.dropEffect = "copy";
        }
      }}
      onDrop={drop}
    >
      <ReactFlow<StepFlowNode>
        nodes={nodes}
        edges={edges}
        nodeTypes={NODE_TYPES}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={connect}
        onDelete={remove}
        onPaneClick={() => onSelect(null)}
        nodesDraggable={canEdit}
        nodesConnectable={canEdit}
        edgesReconnectable={false}
        deleteKeyCode={canEdit ? ["Delete", "Backspace"] : null}
        multiSelectionKeyCode={canEdit ? "Shift" : null}
        selectionKeyCode={null}
        fitView={fitOnOpen}
        fitViewOptions={FIT}
        minZoom={0.05}
        maxZoom={2}
      >
        <Background gap={20} />
        <Controls showInteractive={false} fitViewOptions={FIT} />
        <MiniMap pannable zoomable ariaLabel="Overview of the flow" style={{ width: 150, height: 100 }} />
      </ReactFlow>
    </div>
  );
}
