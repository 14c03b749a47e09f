import { useState } from "react";
import { Link } from "react-router";

import { api, call } from "../api/client";
import { ActionMessage, type Outcome } from "../components/ActionMessage";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { EmptyState } from "../components/EmptyState";
import { ErrorState } from "../components/ErrorState";
import { LoadingState } from "../components/LoadingState";
import { useSession } from "../session/SessionProvider";
import { AgentDialog } from "./AgentDialog";
import { AgentTable } from "./AgentTable";
import { BoardTotals } from "./BoardTotals";
import { canManage, canSetStatus, loadBoard, type Agent, type AgentStatus, type Board, type Department } from "./board";
import { DepartmentCard } from "./DepartmentCard";
import { DepartmentDialog } from "./DepartmentDialog";
import { LiveStatus } from "./LiveStatus";
import { PhoneNumbersSection } from "./PhoneNumbersSection";
import { setAgentStatus } from "./setStatus";
import { useLive } from "./useLive";
import "./calls.css";

type Editing =
  | { kind: "department"; department: Department | null }
  | { kind: "delete-department"; department: Department }
  | { kind: "agent"; agent: Agent | null }
  | { kind: "delete-agent"; agent: Agent };

/** Calls and people: the departments with their queues and the agents, live, for a
 * supervisor; and the phone numbers with the flow that answers each. */
export default function CallsPage() {
  const { session } = useSession();
  const canEdit = canManage(session.role);
  const board = useLive(loadBoard, []);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [editing, setEditing] = useState<Editing | null>(null);
  const [pending, setPending] = useState<ReadonlySet<string>>(new Set());

  const data: Board = board.resource.status === "ready" ? board.resource.data : { departments: [], agents: [] };
  const departments = data.departments.map((entry) => entry.department);
  const names = new Map(departments.map((department) => [department.id, department.name]));
  // An agent key named after an agent (as `PUT /api/agents/{id}/status` knows it) is that agent.
  const me = data.agents.find((agent) => session.role === "agent" && canSetStatus(session, agent)) ?? null;
  const close = () => setEditing(null);
  const done = (text: string) => {
    setEditing(null);
    board.refresh();
    setOutcome({ kind: "done", text });
  };

  async function changeStatus(agent: Agent, status: AgentStatus) {
    setPending((ids) => new Set(ids).add(agent.id));
    try {
      const { text } = await setAgentStatus(agent, status);
      setOutcome({ kind: "done", text });
    } catch (error) {
      setOutcome({ kind: "failed", action: `Setting ${agent.name} ${status}`, error });
    } finally {
      setPending((ids) => {
        const rest = new Set(ids);
        rest.delete(agent.id);
        return rest;
      });
      board.refresh();
    }
  }

  function boardBody() {
    switch (board.resource.status) {
      case "loading":
        return <LoadingState label="Loading departments and agents…" />;
      case "error":
        return <ErrorState title="The departments and agents could not be loaded" error={board.resource.error} onRetry={board.retry} />;
      case "ready":
        break;
    }
    return (
      <>
        <section aria-labelledby="departments-title" className="calls-section">
          <header className="section-header">
            <h2 id="departments-title">Departments and queues</h2>
            {canEdit && (
              <button type="button" className="button" onClick={() => setEditing({ kind: "department", department: null })}>
                New department
              </button>
            )}
          </header>
          <BoardTotals board={data} />
          {data.departments.length === 0 ? (
            <EmptyState title="No departments yet">
              <p>A flow's transfer step sends callers to a department: its available agents, else its queue.</p>
            </EmptyState>
          ) : (
            <div className="department-grid">
              {data.departments.map(({ department, queue }) => (
                <DepartmentCard
                  key={department.id}
                  department={department}
                  queue={queue}
                  agents={data.agents}
                  overflowName={department.overflow_department_id ? (names.get(department.overflow_department_id) ?? null) : null}
                  canEdit={canEdit}
                  onEdit={() => setEditing({ kind: "department", department })}
                  onDelete={() => setEditing({ kind: "delete-department", department })}
                />
              ))}
            </div>
          )}
        </section>
        <section aria-labelledby="agents-title" className="calls-section">
          <header className="section-header">
            <h2 id="agents-title">Agents</h2>
            {canEdit && (
              <button type="button" className="button" onClick={() => setEditing({ kind: "agent", agent: null })}>
                New agent
              </button>
            )}
          </header>
          {data.agents.length === 0 ? (
            <EmptyState title="No agents yet">
              <p>Agents take the calls transferred to their departments when they are available.</p>
            </EmptyState>
          ) : (
            <AgentTable
              agents={data.agents}
              departments={departments}
              canEdit={canEdit}
              pending={pending}
              onStatus={(agent, status) => void changeStatus(agent, status)}
              onEdit={(agent) => setEditing({ kind: "agent", agent })}
              onDelete={(agent) => setEditing({ kind: "delete-agent", agent })}
            />
          )}
        </section>
      </>
    );
  }

  return (
    <section aria-labelledby="page-title" className="calls-page">
      <header className="page-header">
        <h1 id="page-title">Calls &amp; people</h1>
        <LiveStatus updatedAt={board.updatedAt} stale={board.stale} />
      </header>
      <ActionMessage outcome={outcome} onDismiss={() => setOutcome(null)} />
      {me && (
        <p className="notice" data-testid="own-agent">
          You are signed in as agent {me.name}: <Link to={`/agents/${me.id}`}>your flows and tasks</Link>.
        </p>
      )}
      {boardBody()}
      <PhoneNumbersSection canEdit={canEdit} onOutcome={setOutcome} />
      {editing?.kind === "department" && (
        <DepartmentDialog
          department={editing.department}
          departments={departments}
          onClose={close}
          onSaved={(saved) => done(editing.department ? `Saved department "${saved.name}".` : `Created department "${saved.name}".`)}
        />
      )}
      {editing?.kind === "agent" && (
        <AgentDialog
          agent={editing.agent}
          departments={departments}
          onClose={close}
          onSaved={(saved) => done(editing.agent ? `Saved agent "${saved.name}".` : `Created agent "${saved.name}" (${saved.status}).`)}
        />
      )}
      {editing?.kind === "delete-department" && (
        <ConfirmDialog
          title={`Delete department "${editing.department.name}"?`}
          confirmLabel="Delete department"
          onClose={close}
          onConfirm={async () => {
            const { department } = editing;
            await call(api.DELETE("/api/departments/{department_id}", { params: { path: { department_id: department.id } } }));
            done(`Deleted department "${department.name}".`);
          }}
        >
          <p>
            Its agents leave it and departments overflowing to it stop overflowing. Flows whose transfer step names it can
            no longer reach it.
          </p>
        </ConfirmDialog>
      )}
      {editing?.kind === "delete-agent" && (
        <ConfirmDialog
          title={`Delete agent "${editing.agent.name}"?`}
          confirmLabel="Delete agent"
          onClose={close}
          onConfirm={async () => {
            const { agent } = editing;
            await call(api.DELETE("/api/agents/{agent_id}", { params: { path: { agent_id: agent.id } } }));
            done(`Deleted agent "${agent.name}".`);
          }}
        >
          <p>Transfers no longer reach them. This cannot be undone here.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}
