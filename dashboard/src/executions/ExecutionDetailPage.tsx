import { useCallback, useEffect, useRef, useState } from "react";
import { Link, useLocation, useParams } from "react-router";

import { ApiProblem, api, call } from "../api/client";
import { useResource } from "../api/useResource";
import type { Outcome } from "../components/ActionMessage";
import { ErrorState } from "../components/ErrorState";
import { LoadingState } from "../components/LoadingState";
import { ExecutionView } from "./ExecutionView";
import { isLive } from "./format";
import { useEventStream } from "./useEventStream";
import "./executions.css";

const SETTLE_MS = 200;

/** What a page says when it opens after an action elsewhere (a retry started this run). */
interface ArrivalState {
  notice?: string;
}

/** One run: who and what, its controls, the human task it waits on, the path on its flow,
 * the timeline and the variables; updating live while it runs. */
export function ExecutionDetailPage() {
  const { executionId = "" } = useParams();
  const location = useLocation();
  const notice = (location.state as ArrivalState | null)?.notice;
  const detail = useResource(
    () => call(api.GET("/api/executions/{execution_id}", { params: { path: { execution_id: executionId } } })),
    [executionId],
  );
  const [outcome, setOutcome] = useState<Outcome | null>(notice ? { kind: "done", text: notice } : null);
  useEffect(() => setOutcome(notice ? { kind: "done", text: notice } : null), [executionId, notice]);

  // Each event of this run reads it again, a moment later (several events, one read).
  const timer = useRef<number | null>(null);
  const { reload } = detail;
  const onEvent = useCallback(() => {
    if (timer.current !== null) return;
    timer.current = window.setTimeout(() => {
      timer.current = null;
      reload();
    }, SETTLE_MS);
  }, [reload]);
  useEffect(() => () => {
    if (timer.current !== null) window.clearTimeout(timer.current);
  }, []);
  const resource = detail.resource;
  // Only while the run is live: one that has ended changes no more. Opening, the stream
  // has none of what happened since the run was read: read it again.
  const live = resource.status === "ready" && isLive(resource.data.status);
  const stream = useEventStream(onEvent, { executionId, onOpen: reload, enabled: live });

  return (
    <section aria-labelledby="page-title" className="execution-page">
      <nav className="breadcrumb" aria-label="Breadcrumb">
        <Link to="/executions">Executions</Link> <span aria-hidden="true">›</span>
      </nav>
      {resource.status === "loading" && (
        <>
          <h1 id="page-title">Execution</h1>
          <LoadingState label="Loading the execution…" />
        </>
      )}
      {resource.status === "error" && (
        <>
          <h1 id="page-title">Execution</h1>
          <ErrorState
            title="This execution could not be loaded"
            error={resource.error}
            onRetry={resource.error instanceof ApiProblem && resource.error.status === 404 ? undefined : detail.retry}
          />
        </>
      )}
      {resource.status === "ready" && (
        <ExecutionView
          key={resource.data.id}
          execution={resource.data}
          stream={stream}
          outcome={outcome}
          onOutcome={setOutcome}
          onChanged={reload}
        />
      )}
    </section>
  );
}
