import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Link, useSearchParams } from "react-router";

import { api, call, messageOf } from "../api/client";
import { useResource } from "../api/useResource";
import { ActionMessage, type Outcome } from "../components/ActionMessage";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { EmptyState } from "../components/EmptyState";
import { ErrorState } from "../components/ErrorState";
import { LoadingState } from "../components/LoadingState";
import { canEditFlows } from "../session/roles";
import { useSession } from "../session/SessionProvider";
import { ExecutionFilterBar } from "./ExecutionFilterBar";
import { ExecutionTable } from "./ExecutionTable";
import { exportHref, filtersFrom, isFiltered, searchOf, type ExecutionFilters } from "./filters";
import { isLive } from "./format";
import { LiveIndicator } from "./LiveIndicator";
import { useEventStream, type FlowEvent } from "./useEventStream";
import { useExecutionList } from "./useExecutionList";
import { useNow } from "./useNow";
import "./executions.css";

/** How long events gather before the list reads the executions they name. */
const SETTLE_MS = 250;

/** Every run of every flow: filtered (the filters live in the address), paged, updating live
 * over the event stream; live runs can be picked and cancelled; the list exports as CSV. */
export function ExecutionsPage() {
  const { session } = useSession();
  const canCancel = canEditFlows(session.role);
  const [params, setParams] = useSearchParams();
  const search = params.toString();
  const filters = useMemo(() => filtersFrom(new URLSearchParams(search)), [search]);
  const setFilters = useCallback((next: ExecutionFilters) => setParams(searchOf(next), { replace: true }), [setParams]);

  const flows = useResource(() => call(api.GET("/api/flows")), []);
  const { list, retry, loadMore, refresh, liveProblem } = useExecutionList(filters);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [confirming, setConfirming] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);

  // Events name executions; a moment later the list reads those once each.
  const touched = useRef(new Set<string>());
  const timer = useRef<number | null>(null);
  const onEvent = useCallback(
    (event: FlowEvent) => {
      if (!event.execution_id) return;
      touched.current.add(event.execution_id);
      if (timer.current !== null) return;
      timer.current = window.setTimeout(() => {
        timer.current = null;
        const ids = touched.current;
        touched.current = new Set();
        void refresh(ids);
      }, SETTLE_MS);
    },
    [refresh],
  );
  useEffect(() => () => {
    if (timer.current !== null) window.clearTimeout(timer.current);
  }, []);
  const onOpen = useCallback(() => void refresh(new Set(), true), [refresh]);
  const stream = useEventStream(onEvent, { onOpen });

  const items = list.status === "ready" ? list.items : [];
  const anyLive = items.some((e) => isLive(e.status));
  const now = useNow(anyLive);
  const flowNames = useMemo(
    () => new Map((flows.resource.status === "ready" ? flows.resource.data : []).map((flow) => [flow.id, flow.name])),
    [flows.resource],
  );

  // A run of a flow made since the names were read: read them again (once per such flow).
  const askedFor = useRef(new Set<string>());
  const reloadFlows = flows.reload;
  useEffect(() => {
    if (flows.resource.status !== "ready") return;
    const missing = items.map((e) => e.flow_id).filter((id) => !flowNames.has(id) && !askedFor.current.has(id));
    if (missing.length === 0) return;
    missing.forEach((id) => askedFor.current.add(id));
    reloadFlows();
  }, [items, flowNames, flows.resource.status, reloadFlows]);

  // What is picked but no longer live (it ended meanwhile) or no longer shown is let go.
  const pickable = useMemo(() => new Set(items.filter((e) => isLive(e.status)).map((e) => e.id)), [items]);
  const picked = useMemo(() => new Set([...selected].filter((id) => pickable.has(id))), [selected, pickable]);

  const selection = canCancel
    ? {
        selected: picked,
        onToggle: (id: string, on: boolean) =>
          setSelected((now) => {
            const next = new Set(now);
            if (on) next.add(id);
            else next.delete(id);
            return next;
          }),
        onToggleAll: (on: boolean) => setSelected(on ? new Set(pickable) : new Set()),
      }
    : undefined;

  async function cancelPicked() {
    const ids = [...picked];
    const answer = await call(api.POST("/api/executions/cancel", { body: { ids, reason: `cancelled from the dashboard by ${session.key_name}` } }));
    setConfirming(false);
    setSelected(new Set());
    const missed = ids.length - answer.signalled;
    setOutcome({
      kind: "done",
      text:
        `Cancel signalled to ${answer.signalled} of ${ids.length} selected execution${ids.length === 1 ? "" : "s"}.` +
        (missed > 0 ? ` ${missed} had already ended.` : " Their status changes here as each stops."),
    });
  }

  return (
    <section aria-labelledby="page-title" className="executions-page">
      <header className="page-header">
        <div className="page-title-row">
          <h1 id="page-title">Executions</h1>
          <LiveIndicator state={stream.state} onReconnect={stream.reconnect} />
        </div>
        <div className="page-actions">
          <a className="button" href={exportHref(filters)} download="executions.csv">
            Export CSV
          </a>
        </div>
      </header>
      <ExecutionFilterBar filters={filters} flows={flows.resource.status === "ready" ? flows.resource.data : []} onChange={setFilters} />
      {flows.resource.status === "error" && (
        <p className="hint" role="alert">
          Flow names could not be loaded ({messageOf(flows.resource.error)}); the list shows what it can.
        </p>
      )}
      {liveProblem !== null && (
        <p className="hint live-problem" role="alert">
          A live update could not be read: {messageOf(liveProblem)}. The next event tries again.
        </p>
      )}
      <ActionMessage outcome={outcome} onDismiss={() => setOutcome(null)} />
      {canCancel && items.length > 0 && (
        <div className="bulk-bar" aria-label="Selected executions">
          <span aria-live="polite">{picked.size === 0 ? "Select live executions to cancel them." : `${picked.size} selected`}</span>
          <button type="button" className="button button-danger-quiet" disabled={picked.size === 0} onClick={() => setConfirming(true)}>
            Cancel selected
          </button>
        </div>
      )}
      {list.status === "loading" && <LoadingState label="Loading executions…" />}
      {list.status === "error" && <ErrorState title="The executions could not be loaded" error={list.error} onRetry={retry} />}
      {list.status === "ready" && list.items.length === 0 && (
        isFiltered(filters) ? (
          <EmptyState title="No executions match these filters">
            <p>
              New runs that match appear here as they start (a lead: posted to <code>POST /api/contacts</code>, or added on the{" "}
              <Link to="/contacts">Contacts</Link> page). Clear a filter to see more.
            </p>
          </EmptyState>
        ) : (
          <EmptyState title="No executions yet">
            <p>
              A run appears here, live, as soon as a flow starts: when a lead arrives for a published lead flow (posted to{" "}
              <code>POST /api/contacts</code>, or added on the <Link to="/contacts">Contacts</Link> page), a call comes in, or
              a flow is run by hand.
            </p>
          </EmptyState>
        )
      )}
      {list.status === "ready" && list.items.length > 0 && (
        <>
          <ExecutionTable executions={list.items} flowNames={flowNames} fresh={list.fresh} now={now} selection={selection} />
          <div className="list-footer">
            <span className="hint" data-testid="shown-count">
              {list.items.length} shown{list.nextCursor === null ? ", all that match" : ""}
            </span>
            {list.nextCursor !== null && (
              <button type="button" className="button" onClick={() => void loadMore()} disabled={list.more === "loading"}>
                {list.more === "loading" ? "Loading…" : "Load more"}
              </button>
            )}
            {typeof list.more === "object" && (
              <span className="form-error" role="alert">
                More could not be loaded: {messageOf(list.more.error)}
              </span>
            )}
          </div>
        </>
      )}
      {confirming && (
        <ConfirmDialog
          title={`Cancel ${picked.size} execution${picked.size === 1 ? "" : "s"}?`}
          confirmLabel="Cancel executions"
          onClose={() => setConfirming(false)}
          onConfirm={cancelPicked}
        >
          <p>
            Each stops where it is: a wait ends without going on, nothing more is sent. A cancelled run cannot be resumed,
            only retried from the start.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}
