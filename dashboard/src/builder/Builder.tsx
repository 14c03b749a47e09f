import { useReactFlow } from "@xyflow/react";
import { useCallback, useMemo, useRef, useState } from "react";
import { Link } from "react-router";

import { api, call, type Schemas } from "../api/client";
import { NODE_WIDTH, positionsOf } from "../canvas/layout";
import type { DiagramOverlay } from "../canvas/overlay";
import { asDefinition, type FlowDefinition, type FlowNode, type NodePosition, type StepInfo } from "../canvas/types";
import { ActionMessage, type Outcome } from "../components/ActionMessage";
import { BuilderActions } from "./BuilderActions";
import { addNode, connect, freeSpot, freshId, deleteNodes, disconnect, layoutAll, moveNodes, renameNode, setStart, setVariables, updateNode, withPositions } from "./edits";
import { EdgePanel } from "./EdgePanel";
import { EditorCanvas, type Selection } from "./EditorCanvas";
import { NodePanel } from "./NodePanel";
import { Palette } from "./Palette";
import { ProblemList } from "./ProblemList";
import { placeProblems, problemsByNode } from "./problems";
import { SaveStatus } from "./SaveStatus";
import { SettingsPanel } from "./SettingsPanel";
import { useAutosave } from "./useAutosave";
import { useHistory } from "./useHistory";
import { useShortcuts } from "./useShortcuts";

type Flow = Schemas["FlowDetail"];
type Version = Schemas["VersionOut"];

interface BuilderProps {
  initialFlow: Flow;
  initial: Version | null;
  steps: StepInfo[];
  canEdit: boolean;
}

const EMPTY: FlowDefinition = { start: "", nodes: [] };

function versionLabel(version: Version | null): string {
  if (version === null) return "No version yet: your first step makes draft v1";
  if (version.status === "draft") return `Draft v${version.number}`;
  const state = version.status === "published" ? "Published" : version.status === "archived" ? "Archived" : version.status;
  return `${state} v${version.number}: edits start a new draft`;
}

/** The flow builder: palette, canvas and side panel around one version's document, saved as
 * you go, with undo and redo. */
export function Builder({ initialFlow, initial, steps, canEdit }: BuilderProps) {
  const reactFlow = useReactFlow();
  const [flow, setFlow] = useState(initialFlow);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  /** The flow again (its versions changed, or its settings elsewhere). */
  const onFlowChanged = useCallback(() => {
    call(api.GET("/api/flows/{flow_id}", { params: { path: { flow_id: initialFlow.id } } })).then(setFlow, (error: unknown) =>
      setOutcome({ kind: "failed", action: "Reloading the flow", error }),
    );
  }, [initialFlow.id]);
  const [version, setVersion] = useState<Version | null>(initial);
  const [loaded, setLoaded] = useState<FlowDefinition>(() => (initial ? asDefinition(initial.definition) : EMPTY));
  const history = useHistory(loaded);
  const definition = history.definition;
  const [checked, setChecked] = useState({ problems: initial?.problems ?? [], definition: loaded });
  const [selection, setSelection] = useState<Selection>(null);
  const [overlay, setOverlay] = useState<DiagramOverlay | null>(null);
  const canvasRef = useRef<HTMLDivElement>(null);

  const onSaved = useCallback(
    (saved: Version) => {
      setVersion((before) => {
        if (before?.number !== saved.number) onFlowChanged();
        return saved;
      });
      setChecked({ problems: saved.problems ?? [], definition: asDefinition(saved.definition) });
    },
    [onFlowChanged],
  );
  const autosave = useAutosave({ flowId: flow.id, version, definition, loaded, enabled: canEdit, onSaved });

  /** Another version opened (B's actions: published, rolled back, picked, a new draft). */
  const open = useCallback(
    (next: Version) => {
      const document = asDefinition(next.definition);
      setVersion(next);
      setLoaded(document);
      history.reset(document);
      setChecked({ problems: next.problems ?? [], definition: document });
      setSelection(null);
      onFlowChanged();
    },
    [history.reset, onFlowChanged],
  );

  const placed = useMemo(() => placeProblems(checked.problems, checked.definition), [checked]);
  const byNode = useMemo(() => problemsByNode(placed), [placed]);

  const edit = useCallback(
    (change: (current: FlowDefinition) => FlowDefinition, key: string | null = null) => {
      if (canEdit) history.commit((current) => change(withPositions(current, steps)), key);
    },
    [canEdit, history.commit, steps],
  );

  const addStep = useCallback(
    (type: string, position?: NodePosition) => {
      let at = position;
      if (!at) {
        const box = canvasRef.current?.getBoundingClientRect();
        const center = box ? reactFlow.screenToFlowPosition({ x: box.left + box.width / 2, y: box.top + box.height / 2 }) : { x: 0, y: 0 };
        at = freeSpot(definition, steps, { x: center.x - NODE_WIDTH / 2, y: center.y - 60 });
      }
      // The id is chosen here, not inside the change: React may apply the change later.
      const id = freshId(definition, type);
      const place = at;
      edit((current) => addNode(current, type, place, id).definition);
      setSelection({ kind: "node", id });
    },
    [definition, edit, reactFlow, steps],
  );

  const move = useCallback(
    (moved: ReadonlyMap<string, NodePosition>) =>
      edit((current) => {
        const before = positionsOf(current, steps);
        const real = new Map([...moved].filter(([id, at]) => {
          const old = before.get(id);
          return !old || Math.round(old.x) !== Math.round(at.x) || Math.round(old.y) !== Math.round(at.y);
        }));
        return real.size > 0 ? moveNodes(current, real) : current;
      }),
    [edit, steps],
  );

  const remove = useCallback(
    (nodes: string[], edges: { source: string; port: string }[]) => {
      edit((current) => edges.reduce((doc, { source, port }) => disconnect(doc, source, port), deleteNodes(current, nodes)));
      setSelection(null);
    },
    [edit],
  );

  const removeSelection = useCallback(() => {
    if (selection?.kind === "node") remove([selection.id], []);
    if (selection?.kind === "edge") {
      const [source = "", port = ""] = selection.id.split(":");
      remove([], [{ source, port }]);
    }
  }, [remove, selection]);

  const layout = useCallback(() => {
    edit((current) => layoutAll(current, steps));
    window.setTimeout(() => void reactFlow.fitView({ padding: 0.2, maxZoom: 1.1, duration: 200 }), 60);
  }, [edit, reactFlow, steps]);

  useShortcuts({ undo: history.undo, redo: history.redo, enabled: canEdit });

  const node: FlowNode | undefined = selection?.kind === "node" ? definition.nodes.find((n) => n.id === selection.id) : undefined;
  const stepsByType = useMemo(() => new Map(steps.map((step) => [step.type, step])), [steps]);
  const nodeProblems = useMemo(() => (node ? placed.filter((p) => p.nodeId === node.id) : []), [placed, node]);

  return (
    <section className="builder" aria-labelledby="page-title">
      <header className="builder-toolbar">
        <div className="builder-title">
          <Link to="/flows" className="builder-back">
            Flows
          </Link>
          <span aria-hidden="true">/</span>
          <h1 id="page-title">{flow.name}</h1>
          <span className="builder-version" data-testid="builder-version">
            {versionLabel(version)}
          </span>
          <nav className="builder-links" aria-label="This flow's runs">
            <Link to={`/executions?flow=${encodeURIComponent(flow.id)}`} title="This flow's executions, updating live">
              Runs
            </Link>
            <Link to={`/analytics/${encodeURIComponent(flow.id)}`} title="This flow's analytics: where its runs went">
              Funnel
            </Link>
          </nav>
        </div>
        <div className="builder-tools" role="toolbar" aria-label="Builder">
          {canEdit && (
            <>
              <button type="button" className="button button-small" onClick={history.undo} disabled={!history.canUndo} title="Undo (Ctrl+Z)">
                Undo
              </button>
              <button type="button" className="button button-small" onClick={history.redo} disabled={!history.canRedo} title="Redo (Ctrl+Shift+Z or Ctrl+Y)">
                Redo
              </button>
              <button type="button" className="button button-small" onClick={layout} disabled={definition.nodes.length === 0}>
                Auto-layout
              </button>
              <button type="button" className="button button-small" onClick={removeSelection} disabled={selection === null} title="Delete the selected step or transition (Delete)">
                Delete
              </button>
            </>
          )}
          <button type="button" className="button button-small" onClick={() => setSelection(null)} aria-pressed={selection === null}>
            Settings
          </button>
          <SaveStatus status={autosave.status} canEdit={canEdit} onRetry={autosave.retry} />
          <ProblemList placed={placed} onShow={(id) => setSelection({ kind: "node", id })} />
          <BuilderActions
            flow={flow}
            version={version}
            definition={definition}
            dirty={autosave.dirty}
            canEdit={canEdit}
            onOverlay={setOverlay}
            onVersion={open}
            onFlowChanged={onFlowChanged}
          />
        </div>
      </header>
      <ActionMessage outcome={outcome} onDismiss={() => setOutcome(null)} />
      <div className={["builder-body", canEdit ? "" : "builder-body-read-only", autosave.dirty ? "builder-problems-stale" : ""].filter(Boolean).join(" ")}>
        {canEdit && <Palette steps={steps} onAdd={(type) => addStep(type)} />}
        <div className="builder-canvas-frame" ref={canvasRef}>
          {definition.nodes.length === 0 && (
            <div className="builder-canvas-empty" role="note">
              <strong>No steps yet.</strong>
              <span>{canEdit ? "Drag a step from the palette, or press Enter on one, to begin." : "This version has no steps."}</span>
            </div>
          )}
          <EditorCanvas
            definition={definition}
            steps={steps}
            overlay={overlay}
            problems={byNode}
            selection={selection}
            canEdit={canEdit}
            onSelect={setSelection}
            onMove={move}
            onConnect={(source, port, target) => edit((current) => connect(current, source, port, target))}
            onDelete={remove}
            onDropStep={addStep}
          />
        </div>
        <aside className="side-panel" aria-labelledby="side-panel-title" data-testid="side-panel">
          {node ? (
            <NodePanel
              key={node.id}
              node={node}
              step={stepsByType.get(node.type)}
              definition={definition}
              problems={nodeProblems}
              canEdit={canEdit}
              onChange={(change, key) => edit((current) => updateNode(current, node.id, change), `${node.id}:${key}`)}
              onRename={(to) => {
                edit((current) => renameNode(current, node.id, to));
                setSelection({ kind: "node", id: to });
              }}
              onConnect={(port, target) => edit((current) => (target ? connect(current, node.id, port, target) : disconnect(current, node.id, port)))}
              onSetStart={() => edit((current) => setStart(current, node.id))}
              onDelete={() => remove([node.id], [])}
              onClose={() => setSelection(null)}
            />
          ) : selection?.kind === "edge" ? (
            <EdgePanel id={selection.id} definition={definition} canEdit={canEdit} onDelete={removeSelection} onClose={() => setSelection(null)} />
          ) : (
            <SettingsPanel
              flow={flow}
              definition={definition}
              canEdit={canEdit}
              onSaved={setFlow}
              onVariables={(variables) => edit((current) => setVariables(current, variables), "variables")}
            />
          )}
        </aside>
      </div>
    </section>
  );
}
