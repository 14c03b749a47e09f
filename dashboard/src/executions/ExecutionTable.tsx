import { useEffect, useRef } from "react";
import { Link } from "react-router";

import { ExecutionStatusBadge } from "./ExecutionStatusBadge";
import { contactLabel, fullTime, isLive, runDuration, shortTime, type Execution } from "./format";

interface ExecutionTableProps {
  executions: Execution[];
  flowNames: ReadonlyMap<string, string>;
  /** Rows that arrived live, highlighted for a moment. */
  fresh: ReadonlySet<string>;
  now: number;
  /** Given, live rows can be picked for cancelling. */
  selection?: {
    selected: ReadonlySet<string>;
    onToggle: (id: string, on: boolean) => void;
    onToggleAll: (on: boolean) => void;
  };
}

function SelectAll({ executions, selection }: Required<Pick<ExecutionTableProps, "selection">> & { executions: Execution[] }) {
  const box = useRef<HTMLInputElement>(null);
  const live = executions.filter((e) => isLive(e.status));
  const picked = live.filter((e) => selection.selected.has(e.id)).length;
  useEffect(() => {
    if (box.current) box.current.indeterminate = picked > 0 && picked < live.length;
  }, [picked, live.length]);
  return (
    <input
      ref={box}
      type="checkbox"
      aria-label="Select every live execution shown"
      checked={live.length > 0 && picked === live.length}
      disabled={live.length === 0}
      onChange={(e) => selection.onToggleAll(e.target.checked)}
    />
  );
}

/** Executions as a table: flow and pinned version, contact, status, where it is, when it
 * started and for how long, and whether it is a test run. */
export function ExecutionTable({ executions, flowNames, fresh, now, selection }: ExecutionTableProps) {
  return (
    <div className="table-frame">
      <table className="execution-table" aria-label="Executions">
        <colgroup>
          {selection && <col className="width-select" />}
          <col />
          <col className="width-contact" />
          <col className="width-run-status" />
          <col className="width-step" />
          <col className="width-started" />
          <col className="width-duration" />
          <col className="width-test" />
        </colgroup>
        <thead>
          <tr>
            {selection && (
              <th scope="col">
                <SelectAll executions={executions} selection={selection} />
              </th>
            )}
            <th scope="col">Flow</th>
            <th scope="col">Contact</th>
            <th scope="col">Status</th>
            <th scope="col">Current step</th>
            <th scope="col">Started</th>
            <th scope="col" className="col-number">
              Duration
            </th>
            <th scope="col">
              <span className="visually-hidden">Test run</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {executions.map((execution) => {
            const flowName = flowNames.get(execution.flow_id) ?? "A deleted flow";
            const contact = contactLabel(execution);
            const took = runDuration(execution, now);
            const started = execution.started_at ?? execution.created_at;
            return (
              <tr
                key={execution.id}
                className={fresh.has(execution.id) ? "execution-row row-fresh" : "execution-row"}
                data-execution-id={execution.id}
                data-status={execution.status}
              >
                {selection && (
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`Select ${contact} in ${flowName}`}
                      checked={selection.selected.has(execution.id)}
                      disabled={!isLive(execution.status)}
                      title={isLive(execution.status) ? undefined : "It has ended: nothing to cancel."}
                      onChange={(e) => selection.onToggle(execution.id, e.target.checked)}
                    />
                  </td>
                )}
                <td className="execution-flow">
                  <span>{flowName}</span> <span className="version-chip">v{execution.version}</span>
                </td>
                <th scope="row" className="execution-contact">
                  <Link to={`/executions/${execution.id}`}>{contact}</Link>
                  {execution.contact_name && execution.contact_phone && <span className="execution-phone">{execution.contact_phone}</span>}
                </th>
                <td data-testid="status">
                  <ExecutionStatusBadge status={execution.status} />
                </td>
                <td data-testid="current-step">{execution.current_node ? <code>{execution.current_node}</code> : <span className="muted">—</span>}</td>
                <td>
                  <time dateTime={started} title={fullTime(started)}>
                    {shortTime(started)}
                  </time>
                </td>
                <td className="col-number" title={took.ongoing ? "so far" : undefined}>
                  {took.text}
                  {took.ongoing && <span className="muted"> …</span>}
                </td>
                <td>{execution.test && <span className="status-badge test-badge">Test</span>}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
