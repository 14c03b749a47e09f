import type { FlowDefinition } from "../canvas/types";

/** The selected transition: where it leads, and a button to delete it. */
export function EdgePanel({ id, definition, canEdit, onDelete, onClose }: { id: string; definition: FlowDefinition; canEdit: boolean; onDelete: () => void; onClose: () => void }) {
  const [source = "", port = ""] = id.split(":");
  const target = definition.nodes.find((node) => node.id === source)?.transitions?.[port];
  return (
    <>
      <div className="side-panel-head">
        <div>
          <span className="side-panel-kicker">Transition</span>
          <h2 id="side-panel-title">
            {source} · {port}
          </h2>
        </div>
        <button type="button" className="button-quiet" onClick={onClose} aria-label="Close the transition panel">
          ×
        </button>
      </div>
      <p>
        When <code>{source}</code> leaves by <code>{port}</code>, the flow goes on to <code>{target ?? "nothing"}</code>.
      </p>
      {canEdit && (
        <button type="button" className="button button-small button-danger-quiet" onClick={onDelete}>
          Delete transition
        </button>
      )}
    </>
  );
}
