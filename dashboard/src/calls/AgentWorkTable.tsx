import { Link } from "react-router";

import type { AgentWork } from "./board";
import { Clock } from "./Clock";

const KIND_LABELS: Record<AgentWork["kind"], string> = { call: "Call", task: "Task" };

/** The open executions an agent takes part in: calls it holds or is offered, human tasks
 * assigned to it; each links to its execution. */
export function AgentWorkTable({ work }: { work: AgentWork[] }) {
  return (
    <div className="table-frame">
      <table className="flow-table work-table" aria-label="Active flows and tasks">
        <colgroup>
          <col />
          <col className="width-work-kind" />
          <col />
          <col className="width-work-status" />
          <col className="width-work-since" />
          <col className="width-work-link" />
        </colgroup>
        <thead>
          <tr>
            <th scope="col">Flow</th>
            <th scope="col">Kind</th>
            <th scope="col">What</th>
            <th scope="col">Status</th>
            <th scope="col">Since</th>
            <th scope="col">
              <span className="visually-hidden">Execution</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {work.map((item) => (
            <tr key={`${item.execution_id}-${item.kind}-${item.node_id ?? ""}`} className="work-row" data-kind={item.kind}>
              <th scope="row" className="flow-name">
                <Link to={`/flows/${item.flow_id}`}>{item.flow_name}</Link>
                <span className="flow-description">version {item.version}</span>
              </th>
              <td>
                <span className={`status-badge work-kind-${item.kind}`}>{KIND_LABELS[item.kind]}</span>
              </td>
              <td className="work-what">
                {item.kind === "call" ? (
                  <span>
                    On call <code>{item.call_sid}</code>
                  </span>
                ) : (
                  <span>
                    Waiting at step <code>{item.node_id}</code>
                  </span>
                )}
              </td>
              <td className="work-status">{item.status}</td>
              <td>{item.since ? <Clock iso={item.since} /> : "—"}</td>
              <td className="col-actions">
                <Link to={`/executions/${item.execution_id}`} aria-label={`Open the execution of ${item.flow_name}`}>
                  Open execution
                </Link>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
