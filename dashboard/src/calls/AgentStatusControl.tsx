import { STATUSES, STATUS_LABELS, statusOf, type Agent, type AgentStatus } from "./board";
import { AgentStatusBadge } from "./AgentStatusBadge";

interface AgentStatusControlProps {
  agent: Agent;
  editable: boolean;
  pending: boolean;
  onChange: (status: AgentStatus) => void;
}

/** The agent's status: a choice for who may change it (a manager, or the agent itself),
 * a badge for everyone else. */
export function AgentStatusControl({ agent, editable, pending, onChange }: AgentStatusControlProps) {
  const status = statusOf(agent);
  if (!editable) return <AgentStatusBadge status={status} />;
  return (
    <select
      className={`agent-status-select agent-status-${status}`}
      aria-label={`Status of ${agent.name}`}
      value={status}
      disabled={pending}
      onChange={(event) => onChange(event.target.value as AgentStatus)}
    >
      {STATUSES.map((option) => (
        <option key={option} value={option}>
          {STATUS_LABELS[option]}
        </option>
      ))}
    </select>
  );
}
