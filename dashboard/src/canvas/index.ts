// The shared canvas: a read-only FlowDiagram, the step node, auto-layout and the catalogue.
// Import it from lazily loaded pages only: it brings @xyflow/react with it.
export { FlowDiagram } from "./FlowDiagram";
export { autoLayout, positionsOf } from "./layout";
export { diagramEdges, diagramNodes, edgeKey, type StepFlowNode, type StepNodeData } from "./model";
export type { DiagramOverlay, MarkTone, NodeMark } from "./overlay";
export { portsOf } from "./ports";
export { NODE_TYPES, StepNode } from "./StepNode";
export { asDefinition, type FlowDefinition, type FlowNode, type StepInfo } from "./types";
export { useSteps } from "./useSteps";
