import { STATUS_LABELS, type AgentStatus } from "./board";

/** An agent's status as a coloured badge: available, busy or offline. */
export function AgentStatusBadge({ status }: { status: AgentStatus }) {
  return (
    <span className={`status-badge agent-status agent-status-${status}`} data-status={status}>
      <span className="agent-status-dot" aria-hidden="true" />
      {STATUS_LABELS[status]}
    </span>
  );
}
