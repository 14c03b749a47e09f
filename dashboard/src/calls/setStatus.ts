import { api, call } from "../api/client";
import { STATUS_LABELS, statusOf, type Agent, type AgentStatus } from "./board";

/** Sets the agent's status; what happened, in words (available may mean busy at once: the
 * API offers the agent a waiting caller straight away). */
export async function setAgentStatus(agent: Agent, status: AgentStatus): Promise<{ agent: Agent; text: string }> {
  const changed = await call(
    api.PUT("/api/agents/{agent_id}/status", { params: { path: { agent_id: agent.id } }, body: { status } }),
  );
  const now = statusOf(changed);
  const text =
    status === "available" && now === "busy"
      ? `${agent.name} is available and was offered the next waiting caller, so is busy now.`
      : `${agent.name} is ${STATUS_LABELS[now].toLowerCase()}.`;
  return { agent: changed, text };
}
