import { useState } from "react";
import { Link, useParams } from "react-router";

import { api, call } from "../api/client";
import { ActionMessage, type Outcome } from "../components/ActionMessage";
import { EmptyState } from "../components/EmptyState";
import { ErrorState } from "../components/ErrorState";
import { LoadingState } from "../components/LoadingState";
import { useSession } from "../session/SessionProvider";
import { canSetStatus, type AgentStatus } from "./board";
import { AgentStatusControl } from "./AgentStatusControl";
import { AgentWorkTable } from "./AgentWorkTable";
import { Clock } from "./Clock";
import { LiveStatus } from "./LiveStatus";
import { setAgentStatus } from "./setStatus";
import { useLive } from "./useLive";
import "./calls.css";

async function loadAgent(agentId: string) {
  const path = { params: { path: { agent_id: agentId } } };
  const [agent, work, departments] = await Promise.all([
    call(api.GET("/api/agents/{agent_id}", path)),
    call(api.GET("/api/agents/{agent_id}/flows/active", path)),
    call(api.GET("/api/departments")),
  ]);
  return { agent, work, departments };
}

/** One agent's own view: its status (which it may change itself), its departments and
 * skills, and the flows and tasks it is part of now, live. */
export default function AgentPage() {
  const { agentId = "" } = useParams();
  const { session } = useSession();
  const live = useLive(() => loadAgent(agentId), [agentId]);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [pending, setPending] = useState(false);

  if (live.resource.status === "loading") return <LoadingState label="Loading the agent…" page />;
  if (live.resource.status === "error") {
    return (
      <section aria-labelledby="page-title">
        <h1 id="page-title">Agent</h1>
        <ErrorState title="This agent could not be loaded" error={live.resource.error} onRetry={live.retry} />
        <p>
          <Link to="/calls">Back to calls and people</Link>
        </p>
      </section>
    );
  }
  const { agent, work, departments } = live.resource.data;
  const names = new Map(departments.map((department) => [department.id, department.name]));

  async function changeStatus(status: AgentStatus) {
    setPending(true);
    try {
      setOutcome({ kind: "done", text: (await setAgentStatus(agent, status)).text });
    } catch (error) {
      setOutcome({ kind: "failed", action: `Setting ${agent.name} ${status}`, error });
    } finally {
      setPending(false);
      live.refresh();
    }
  }

  return (
    <section aria-labelledby="page-title" className="calls-page agent-page">
      <p className="breadcrumb">
        <Link to="/calls">Calls &amp; people</Link> / Agents
      </p>
      <header className="page-header">
        <h1 id="page-title">{agent.name}</h1>
        <LiveStatus updatedAt={live.updatedAt} stale={live.stale} />
      </header>
      <ActionMessage outcome={outcome} onDismiss={() => setOutcome(null)} />
      <dl className="agent-facts">
        <div>
          <dt>Status</dt>
          <dd>
            <AgentStatusControl agent={agent} editable={canSetStatus(session, agent)} pending={pending} onChange={(status) => void changeStatus(status)} />
            <span className="muted">
              {" "}
              since <Clock iso={agent.status_changed_at} />
            </span>
          </dd>
        </div>
        <div>
          <dt>Reached at</dt>
          <dd>{agent.phone ?? (agent.client_identity ? `Twilio Client “${agent.client_identity}”` : "—")}</dd>
        </div>
        <div>
          <dt>Departments</dt>
          <dd>{agent.department_ids.length === 0 ? "None" : agent.department_ids.map((id) => names.get(id) ?? id).join(", ")}</dd>
        </div>
        <div>
          <dt>Skills</dt>
          <dd>{agent.skills.length === 0 ? "None" : agent.skills.join(", ")}</dd>
        </div>
      </dl>
      <section aria-labelledby="work-title" className="calls-section">
        <h2 id="work-title">Active flows and tasks</h2>
        {work.length === 0 ? (
          <EmptyState title="Nothing under way">
            <p>Calls this agent holds or is offered, and human tasks assigned to it, show here while they last.</p>
          </EmptyState>
        ) : (
          <AgentWorkTable work={work} />
        )}
      </section>
    </section>
  );
}
