import { Link } from "react-router";

import { ExecutionStatusBadge } from "./ExecutionStatusBadge";
import { contactLabel, fullTime, runDuration, type ExecutionDetail } from "./format";

/** Which run this is: flow and pinned version, contact, status, when, whether a test, where
 * it came from, and its workflow in the Temporal Web UI. */
export function ExecutionHeader({ execution, now }: { execution: ExecutionDetail; now: number }) {
  const took = runDuration(execution, now);
  const phone = execution.contact_name && execution.contact_phone ? execution.contact_phone : null;
  return (
    <dl className="execution-facts">
      <div>
        <dt>Flow</dt>
        <dd>
          <Link to={`/flows/${execution.flow_id}`}>{execution.flow_name ?? "A deleted flow"}</Link>{" "}
          <span className="version-chip" title="The version this run is pinned to">
            v{execution.version}
          </span>
        </dd>
      </div>
      <div>
        <dt>Contact</dt>
        <dd>
          {contactLabel(execution)}
          {phone && <span className="muted"> · {phone}</span>}
        </dd>
      </div>
      <div>
        <dt>Status</dt>
        <dd data-testid="execution-status">
          <ExecutionStatusBadge status={execution.status} />
          {execution.current_node && (
            <span className="muted">
              {" "}
              at <code>{execution.current_node}</code>
            </span>
          )}
        </dd>
      </div>
      <div>
        <dt>Started</dt>
        <dd>{fullTime(execution.started_at ?? execution.created_at)}</dd>
      </div>
      <div>
        <dt>Ended</dt>
        <dd>{execution.ended_at ? fullTime(execution.ended_at) : <span className="muted">not yet</span>}</dd>
      </div>
      <div>
        <dt>Duration</dt>
        <dd>
          {took.text}
          {took.ongoing && <span className="muted"> so far</span>}
        </dd>
      </div>
      <div>
        <dt>Kind</dt>
        <dd>{execution.test ? <span className="status-badge test-badge">Test run</span> : "Real run"}</dd>
      </div>
      {execution.reason && (
        <div className="fact-wide">
          <dt>Reason</dt>
          <dd>{execution.reason}</dd>
        </div>
      )}
      {execution.retry_of && (
        <div>
          <dt>Retry of</dt>
          <dd>
            <Link to={`/executions/${execution.retry_of}`}>the earlier run</Link>
          </dd>
        </div>
      )}
      {execution.parent_execution_id && (
        <div>
          <dt>Started by</dt>
          <dd>
            <Link to={`/executions/${execution.parent_execution_id}`}>its parent run</Link>
          </dd>
        </div>
      )}
      <div className="fact-wide">
        <dt>Temporal</dt>
        <dd>
          {execution.temporal_url ? (
            <a href={execution.temporal_url} target="_blank" rel="noopener noreferrer">
              Open in Temporal Web UI<span className="visually-hidden"> (opens in a new tab)</span>
            </a>
          ) : (
            <span className="muted">no Web UI configured</span>
          )}{" "}
          <code className="workflow-id">{execution.workflow_id}</code>
        </dd>
      </div>
    </dl>
  );
}
