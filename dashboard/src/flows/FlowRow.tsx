import type { DragEvent, KeyboardEvent } from "react";
import { Link } from "react-router";

import type { Flow } from "../api/client";
import { EnableSwitch } from "./EnableSwitch";
import { FlowStatus } from "./FlowStatus";
import type { FiguresState } from "./runFigures";
import { LastWeekCell } from "./LastWeekCell";
import { triggerSummary } from "./triggers";

export interface FlowRowActions {
  onToggle: (flow: Flow, enabled: boolean) => void;
  onExport: (flow: Flow) => void;
  onDuplicate: (flow: Flow) => void;
  onDelete: (flow: Flow) => void;
}

interface Reorder {
  rank: number;
  of: number;
  dragging: boolean;
  dropTarget: boolean;
  onMove: (by: number) => void;
  onDragStart: (event: DragEvent<HTMLElement>) => void;
  onDragOver: (event: DragEvent<HTMLElement>) => void;
  onDrop: (event: DragEvent<HTMLElement>) => void;
  onDragEnd: () => void;
}

interface FlowRowProps extends FlowRowActions {
  flow: Flow;
  figures: FiguresState;
  canEdit: boolean;
  pending: boolean;
  reorder?: Reorder;
}

/** One flow in the list. */
export function FlowRow({ flow, figures, canEdit, pending, reorder, onToggle, onExport, onDuplicate, onDelete }: FlowRowProps) {
  function onHandleKey(event: KeyboardEvent<HTMLButtonElement>) {
    if (!reorder) return;
    const by = event.key === "ArrowUp" ? -1 : event.key === "ArrowDown" ? 1 : 0;
    if (by !== 0) {
      event.preventDefault();
      reorder.onMove(by);
    }
  }

  const classes = ["flow-row", reorder?.dragging && "row-dragging", reorder?.dropTarget && "row-drop-target"];
  return (
    <tr
      className={classes.filter(Boolean).join(" ")}
      data-flow-id={flow.id}
      onDragOver={reorder?.onDragOver}
      onDrop={reorder?.onDrop}
    >
      {reorder && (
        <td className="col-rank">
          <button
            type="button"
            className="drag-handle"
            draggable={!pending}
            data-handle={flow.id}
            aria-label={`Priority ${reorder.rank} of ${reorder.of}: ${flow.name}. Drag, or press the up and down arrows, to move it.`}
            aria-keyshortcuts="ArrowUp ArrowDown"
            onKeyDown={onHandleKey}
            onDragStart={reorder.onDragStart}
            onDragEnd={reorder.onDragEnd}
          >
            <span aria-hidden="true">⠿</span>
          </button>
          <span className="rank">{reorder.rank}</span>
        </td>
      )}
      <th scope="row" className="flow-name">
        <span>
          <Link to={`/flows/${flow.id}`} className="flow-link">
            {flow.name}
          </Link>
        </span>
        {flow.description && <span className="flow-description">{flow.description}</span>}
      </th>
      <td>
        <FlowStatus flow={flow} />
      </td>
      <td className="flow-trigger">{triggerSummary(flow.trigger)}</td>
      <td>
        {canEdit ? (
          <EnableSwitch flowName={flow.name} enabled={flow.enabled} pending={pending} onChange={(enabled) => onToggle(flow, enabled)} />
        ) : (
          <span className={flow.enabled ? "status-badge status-on" : "status-badge"}>{flow.enabled ? "On" : "Off"}</span>
        )}
      </td>
      <LastWeekCell flow={flow} figures={figures} />
      <td className="col-actions">
        <button type="button" className="button-quiet" onClick={() => onExport(flow)} disabled={pending} aria-label={`Export ${flow.name} as JSON`}>
          Export
        </button>
        {canEdit && (
          <>
            <button type="button" className="button-quiet" onClick={() => onDuplicate(flow)} disabled={pending} aria-label={`Duplicate ${flow.name}`}>
              Duplicate
            </button>
            <button type="button" className="button-quiet button-quiet-danger" onClick={() => onDelete(flow)} disabled={pending} aria-label={`Delete ${flow.name}`}>
              Delete
            </button>
          </>
        )}
      </td>
    </tr>
  );
}
