import { Link } from "react-router";

import { callerOf, statusOf, type Agent, type Department, type QueuedCall } from "./board";
import { Clock } from "./Clock";
import { duration, hoursSummary } from "./time";

interface DepartmentCardProps {
  department: Department;
  queue: QueuedCall[];
  agents: Agent[];
  overflowName: string | null;
  canEdit: boolean;
  onEdit: () => void;
  onDelete: () => void;
}

/** One department on the board: its agents at a glance, and the callers waiting in its
 * queue in the order they will be served, each with how long it has waited (as of the last refresh). */
export function DepartmentCard({ department, queue, agents, overflowName, canEdit, onEdit, onDelete }: DepartmentCardProps) {
  const members = agents.filter((agent) => agent.department_ids.includes(department.id));
  const count = (status: string) => members.filter((agent) => statusOf(agent) === status).length;
  const titleId = `department-${department.id}`;
  return (
    <article className="department-card" aria-labelledby={titleId} data-department-id={department.id}>
      <header className="department-head">
        <h3 id={titleId}>{department.name}</h3>
        <span className={queue.length > 0 ? "queue-count queue-count-waiting" : "queue-count"} data-testid="queue-length">
          {queue.length === 0 ? "No one waiting" : `${queue.length} waiting`}
        </span>
      </header>
      <p className="department-meta">
        {department.queue && <span>Queue “{department.queue}”</span>}
        {department.phone_number && <span>Line {department.phone_number}</span>}
        {overflowName && <span>Overflows to {overflowName}</span>}
        {department.business_hours && <span>{hoursSummary(department.business_hours)}</span>}
      </p>
      <p className="department-agents" data-testid="department-agents">
        <span className="agent-count agent-status-available">{count("available")} available</span>
        <span className="agent-count agent-status-busy">{count("busy")} busy</span>
        <span className="agent-count agent-status-offline">{count("offline")} offline</span>
      </p>
      {queue.length > 0 && (
        <ol className="waiting-callers" aria-label={`Callers waiting for ${department.name}`}>
          {queue.map((entry) => {
            return (
              <li key={entry.id} className="waiting-caller">
                <span className="waiting-position">{entry.position}</span>
                <span className="waiting-who">
                  <strong>{callerOf(entry)}</strong>
                  <span className="waiting-since">
                    waiting {duration(entry.waited_s)} · since <Clock iso={entry.enqueued_at} />
                    {entry.skills.length > 0 && ` · needs ${entry.skills.join(", ")}`}
                  </span>
                </span>
                {entry.execution_id && (
                  <Link className="waiting-link" to={`/executions/${entry.execution_id}`}>
                    Execution
                  </Link>
                )}
              </li>
            );
          })}
        </ol>
      )}
      {canEdit && (
        <footer className="department-actions">
          <button type="button" className="button-quiet" onClick={onEdit} aria-label={`Edit ${department.name}`}>
            Edit
          </button>
          <button type="button" className="button-quiet button-quiet-danger" onClick={onDelete} aria-label={`Delete ${department.name}`}>
            Delete
          </button>
        </footer>
      )}
    </article>
  );
}
