import { useMemo, useState } from "react";
import { useNavigate } from "react-router";

import { api, call } from "../api/client";
import { useResource } from "../api/useResource";
import { asDefinition, useSteps, type FlowNode } from "../canvas";
import { ActionMessage, type Outcome } from "../components/ActionMessage";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { EmptyState } from "../components/EmptyState";
import { canEditFlows } from "../session/roles";
import { useSession } from "../session/SessionProvider";
import { ExecutionHeader } from "./ExecutionHeader";
import { ExecutionPathSection } from "./ExecutionPathSection";
import { ExecutionTimeline } from "./ExecutionTimeline";
import { isLive, type ExecutionDetail } from "./format";
import { HumanTaskForm } from "./HumanTaskForm";
import { LiveIndicator } from "./LiveIndicator";
import type { useEventStream } from "./useEventStream";
import { useNow } from "./useNow";
import { ValueTree } from "./ValueTree";

interface ExecutionViewProps {
  execution: ExecutionDetail;
  stream: ReturnType<typeof useEventStream>;
  outcome: Outcome | null;
  onOutcome: (outcome: Outcome | null) => void;
  onChanged: () => void;
}

/** A run once read: its controls, facts, task, path, timeline and variables. */
export function ExecutionView({ execution, stream, outcome, onOutcome, onChanged }: ExecutionViewProps) {
  const { session } = useSession();
  const canAct = canEditFlows(session.role);
  const canComplete = session.role !== "viewer";
  const navigate = useNavigate();
  const catalogue = useSteps();
  const pinned = useResource(
    () =>
      call(
        api.GET("/api/flows/{flow_id}/versions/{number}", {
          params: { path: { flow_id: execution.flow_id, number: execution.version } },
        }),
      ).then((version) => asDefinition(version.definition)),
    [execution.flow_id, execution.version],
  );
  const [selected, setSelected] = useState<string | null>(null);
  const [cancelling, setCancelling] = useState(false);
  const [retrying, setRetrying] = useState(false);
  const live = isLive(execution.status);
  const now = useNow(live);
  const steps = execution.steps ?? [];
  const tasks = steps.filter((step) => step.node_type === "human_task" && step.status === "waiting");

  const nodes = useMemo(
    () => new Map<string, FlowNode>((pinned.resource.status === "ready" ? pinned.resource.data.nodes : []).map((node) => [node.id, node])),
    [pinned.resource],
  );
  const stepTypes = useMemo(
    () => new Map((catalogue.resource.status === "ready" ? catalogue.resource.data : []).map((info) => [info.type, info])),
    [catalogue.resource],
  );

  function select(nodeId: string) {
    setSelected((now) => (now === nodeId ? null : nodeId));
    document.querySelector(`.timeline-step[data-node-id="${CSS.escape(nodeId)}"]`)?.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }

  async function retry() {
    setRetrying(true);
    try {
      const started = await call(api.POST("/api/executions/{execution_id}/retry", { params: { path: { execution_id: execution.id } } }));
      navigate(`/executions/${started.id}`, { state: { notice: "Started this run again: same version, contact and variables." } });
    } catch (error) {
      onOutcome({ kind: "failed", action: "Retry", error });
    } finally {
      setRetrying(false);
    }
  }

  const title = `${execution.contact_name || execution.contact_phone || "Run"} in ${execution.flow_name ?? "a deleted flow"}`;
  const context = execution.context ?? {};
  return (
    <>
      <header className="page-header">
        <div className="page-title-row">
          <h1 id="page-title">{title}</h1>
          {live && <LiveIndicator state={stream.state} onReconnect={stream.reconnect} />}
        </div>
        {canAct && (
          <div className="page-actions">
            {live && (
              <button type="button" className="button button-danger-quiet" onClick={() => setCancelling(true)}>
                Cancel run
              </button>
            )}
            {!live && (
              <button type="button" className="button" onClick={() => void retry()} disabled={retrying}>
                {retrying ? "Starting…" : "Retry"}
              </button>
            )}
          </div>
        )}
      </header>
      <ActionMessage outcome={outcome} onDismiss={() => onOutcome(null)} />
      <ExecutionHeader execution={execution} now={now} />
      {tasks.map((step) => (
        <HumanTaskForm
          key={`${step.seq}`}
          executionId={execution.id}
          step={step}
          canComplete={canComplete}
          onCompleted={(text) => {
            onOutcome({ kind: "done", text });
            onChanged();
          }}
        />
      ))}
      <ExecutionPathSection
        version={execution.version}
        definition={pinned.resource}
        onRetryDefinition={pinned.retry}
        catalogue={catalogue.resource}
        onRetryCatalogue={catalogue.retry}
        steps={steps}
        selected={selected}
        onSelect={select}
      />
      <div className="execution-columns">
        <section className="execution-section" aria-labelledby="timeline-title">
          <h2 id="timeline-title">Timeline</h2>
          {steps.length === 0 ? (
            <EmptyState title={live ? "No step has started yet" : "No step ran"}>
              <p>{live ? "Steps appear here as the run reaches them." : execution.reason ?? "The run ended before its first step."}</p>
            </EmptyState>
          ) : (
            <ExecutionTimeline steps={steps} nodes={nodes} catalogue={stepTypes} now={now} selected={selected} onSelect={select} />
          )}
        </section>
        <section className="execution-section" aria-labelledby="variables-title">
          <h2 id="variables-title">Variables</h2>
          <div className="variables-panel" data-testid="variables">
            <h3>vars</h3>
            <ValueTree value={context.vars ?? execution.variables ?? {}} />
            <h3>steps</h3>
            <ValueTree value={context.steps ?? {}} />
            <h3>contact</h3>
            <ValueTree value={execution.contact ?? {}} />
          </div>
        </section>
      </div>
      {cancelling && (
        <ConfirmDialog
          title="Cancel this run?"
          confirmLabel="Cancel run"
          onClose={() => setCancelling(false)}
          onConfirm={async () => {
            await call(
              api.POST("/api/executions/{execution_id}/cancel", {
                params: { path: { execution_id: execution.id } },
                body: { reason: `cancelled from the dashboard by ${session.key_name}` },
              }),
            );
            setCancelling(false);
            onOutcome({ kind: "done", text: "Cancel signalled: the run stops where it is." });
            onChanged();
          }}
        >
          <p>It stops where it is: a wait ends without going on, nothing more is sent. You can retry it from the start afterwards.</p>
        </ConfirmDialog>
      )}
    </>
  );
}
