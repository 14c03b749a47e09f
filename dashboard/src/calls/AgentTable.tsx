import { Link } from "react-router";

import { useSession } from "../session/SessionProvider";
import { canSetStatus, statusOf, type Agent, type AgentStatus, type Department } from "./board";
import { AgentStatusControl } from "./AgentStatusControl";
import { Clock } from "./Clock";

interface AgentTableProps {
  agents: Agent[];
  departments: Department[];
  canEdit: boolean;
  pending: ReadonlySet<string>;
  onStatus: (agent: Agent, status: AgentStatus) => void;
  onEdit: (agent: Agent) => void;
  onDelete: (agent: Agent) => void;
}

/** Every agent with its status (changed here by a manager or the agent itself), since when,
 * its departments, skills and how it is reached. */
export function AgentTable({ agents, departments, canEdit, pending, onStatus, onEdit, onDelete }: AgentTableProps) {
  const { session } = useSession();
  const names = new Map(departments.map((department) => [department.id, department.name]));
  return (
    <div className="table-frame">
      <table className="flow-table agent-table" aria-label="Agents">
        <colgroup>
          <col />
          <col className="width-agent-status" />
          <col className="width-agent-since" />
          <col />
          <col />
          {canEdit && <col className="width-agent-actions" />}
        </colgroup>
        <thead>
          <tr>
            <th scope="col">Agent</th>
            <th scope="col">Status</th>
            <th scope="col">Since</th>
            <th scope="col">Departments</th>
            <th scope="col">Skills</th>
            {canEdit && (
              <th scope="col" className="col-actions">
                <span className="visually-hidden">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {agents.map((agent) => (
            <tr key={agent.id} className="agent-row" data-agent-id={agent.id} data-status={statusOf(agent)}>
              <th scope="row" className="flow-name">
                <Link to={`/agents/${agent.id}`}>{agent.name}</Link>
                <span className="flow-description">{agent.phone ?? (agent.client_identity ? `client:${agent.client_identity}` : "")}</span>
              </th>
              <td>
                <AgentStatusControl
                  agent={agent}
                  editable={canSetStatus(session, agent)}
                  pending={pending.has(agent.id)}
                  onChange={(status) => onStatus(agent, status)}
                />
              </td>
              <td className="agent-since"><Clock iso={agent.status_changed_at} /></td>
              <td>
                {agent.department_ids.length === 0 ? (
                  <span className="muted">None</span>
                ) : (
                  agent.department_ids.map((id) => names.get(id) ?? id).join(", ")
                )}
              </td>
              <td>
                {agent.skills.length === 0 ? (
                  <span className="muted">None</span>
                ) : (
                  <ul className="skill-list" aria-label={`Skills of ${agent.name}`}>
                    {agent.skills.map((skill) => (
                      <li key={skill} className="skill">
                        {skill}
                      </li>
                    ))}
                  </ul>
                )}
              </td>
              {canEdit && (
                <td className="col-actions">
                  <button type="button" className="button-quiet" onClick={() => onEdit(agent)} disabled={pending.has(agent.id)} aria-label={`Edit ${agent.name}`}>
                    Edit
                  </button>
                  <button
                    type="button"
                    className="button-quiet button-quiet-danger"
                    onClick={() => onDelete(agent)}
                    disabled={pending.has(agent.id)}
                    aria-label={`Delete ${agent.name}`}
                  >
                    Delete
                  </button>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
