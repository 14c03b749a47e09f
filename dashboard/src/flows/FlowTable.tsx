import { useEffect, useRef, useState, type DragEvent } from "react";

import type { Flow } from "../api/client";
import { FlowRow, type FlowRowActions } from "./FlowRow";
import type { FiguresState } from "./runFigures";

interface FlowTableProps extends FlowRowActions {
  label: string;
  flows: Flow[];
  figures: FiguresState;
  canEdit: boolean;
  pending: ReadonlySet<string>;
  /** Given, the rows can be dragged (or moved with the arrow keys) into a new order. */
  onReorder?: (order: string[], moved: Flow) => void;
}

function moved(order: string[], id: string, to: number): string[] {
  const rest = order.filter((other) => other !== id);
  rest.splice(Math.max(0, Math.min(to, rest.length)), 0, id);
  return rest;
}

/** Flows as a table: status, trigger, switch, last week's runs, and what can be done to each. */
export function FlowTable({ label, flows, figures, canEdit, pending, onReorder, ...actions }: FlowTableProps) {
  const [dragging, setDragging] = useState<string | null>(null);
  const [over, setOver] = useState<string | null>(null);
  const [focusAfterMove, setFocusAfterMove] = useState<string | null>(null);
  const table = useRef<HTMLTableElement>(null);
  const reorderable = canEdit && onReorder !== undefined;
  const order = flows.map((flow) => flow.id);

  useEffect(() => {
    if (focusAfterMove === null) return;
    table.current?.querySelector<HTMLElement>(`[data-handle="${focusAfterMove}"]`)?.focus();
  }, [flows, focusAfterMove]);

  function move(flow: Flow, to: number) {
    const next = moved(order, flow.id, to);
    if (next.join() !== order.join()) onReorder?.(next, flow);
  }

  const drag = {
    start(flow: Flow, event: DragEvent<HTMLElement>) {
      setDragging(flow.id);
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", flow.id);
      const row = event.currentTarget.closest("tr");
      if (row) event.dataTransfer.setDragImage(row, 16, 16);
    },
    over(flow: Flow, event: DragEvent<HTMLElement>) {
      if (dragging === null) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      setOver(flow.id);
    },
    drop(flow: Flow, event: DragEvent<HTMLElement>) {
      event.preventDefault();
      const source = flows.find((candidate) => candidate.id === dragging);
      if (source) move(source, order.indexOf(flow.id));
      setDragging(null);
      setOver(null);
    },
    end() {
      setDragging(null);
      setOver(null);
    },
  };

  return (
    <div className="table-frame">
    <table className="flow-table" ref={table} aria-label={label}>
      <colgroup>
        {reorderable && <col className="width-rank" />}
        <col />
        <col className="width-status" />
        <col className="width-trigger" />
        <col className="width-enabled" />
        <col className="width-last-week" />
        <col className="width-actions" />
      </colgroup>
      <thead>
        <tr>
          {reorderable && <th scope="col">Priority</th>}
          <th scope="col">Flow</th>
          <th scope="col">Status</th>
          <th scope="col">Trigger</th>
          <th scope="col">Enabled</th>
          <th scope="col" className="col-number">Last 7 days</th>
          <th scope="col" className="col-actions">
            <span className="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {flows.map((flow, index) => (
          <FlowRow
            key={flow.id}
            flow={flow}
            figures={figures}
            canEdit={canEdit}
            pending={pending.has(flow.id)}
            {...actions}
            reorder={
              reorderable
                ? {
                    rank: index + 1,
                    of: flows.length,
                    dragging: dragging === flow.id,
                    dropTarget: over === flow.id && dragging !== flow.id,
                    onMove: (by) => {
                      setFocusAfterMove(flow.id);
                      move(flow, index + by);
                    },
                    onDragStart: (event) => drag.start(flow, event),
                    onDragOver: (event) => drag.over(flow, event),
                    onDrop: (event) => drag.drop(flow, event),
                    onDragEnd: drag.end,
                  }
                : undefined
            }
          />
        ))}
      </tbody>
    </table>
    </div>
  );
}
