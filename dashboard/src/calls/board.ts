import { api, call, type Role, type Schemas, type Session } from "../api/client";
import { canEditFlows } from "../session/roles";

export type Agent = Schemas["AgentOut"];
export type Department = Schemas["DepartmentOut"];
export type QueuedCall = Schemas["QueuedCallOut"];
export type PhoneNumber = Schemas["PhoneNumberOut"];
export type Deployment = Schemas["DeploymentOut"];
export type AgentWork = Schemas["AgentWorkOut"];
export type AgentStatus = "available" | "busy" | "offline";

export const STATUSES: AgentStatus[] = ["available", "busy", "offline"];
export const STATUS_LABELS: Record<AgentStatus, string> = {
  available: "Available",
  busy: "Busy",
  offline: "Offline",
};

export function statusOf(agent: Agent): AgentStatus {
  return STATUSES.includes(agent.status as AgentStatus) ? (agent.status as AgentStatus) : "offline";
}

/** What the agents board shows: every department with the callers waiting in it, and the
 * agents. One snapshot, loaded together so the counts agree with each other. */
export interface Board {
  departments: { department: Department; queue: QueuedCall[] }[];
  agents: Agent[];
}

export async function loadBoard(): Promise<Board> {
  const [departments, agents] = await Promise.all([
    call(api.GET("/api/departments")),
    call(api.GET("/api/agents")),
  ]);
  const queues = await Promise.all(
    departments.map((department) =>
      call(api.GET("/api/departments/{department_id}/queue", { params: { path: { department_id: department.id } } })),
    ),
  );
  return {
    departments: departments.map((department, index) => ({ department, queue: queues[index] ?? [] })),
    agents,
  };
}

/** Who may add, change and remove numbers, departments and agents: the API's `manager` grant. */
export function canManage(role: Role): boolean {
  return canEditFlows(role);
}

/** Who may change an agent's status: a manager, or the agent itself (an agent key named
 * after the agent's id or name, as `PUT /api/agents/{id}/status` checks). */
export function canSetStatus(session: Session, agent: Agent): boolean {
  if (canManage(session.role)) return true;
  return session.role === "agent" && (session.key_name === agent.name || session.key_name === agent.id);
}

/** Where a waiting caller called from (what the transfer recorded), if known. */
export function callerOf(entry: QueuedCall): string {
  const from = entry.context["from"];
  return typeof from === "string" && from !== "" ? from : "Unknown caller";
}
