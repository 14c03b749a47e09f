import { useMemo } from "react";
import { Link, useParams } from "react-router";

import { api, ApiProblem, call, type Schemas } from "../api/client";
import { useResource } from "../api/useResource";
import { EmptyState } from "../components/EmptyState";
import { ErrorState } from "../components/ErrorState";
import { LoadingState } from "../components/LoadingState";
import { asDefinition, type StepInfo, useSteps } from "../canvas";
import { AbResults } from "./AbResults";
import { AiUsage } from "./AiUsage";
import { AnalyticsFilters } from "./AnalyticsFilters";
import "./analytics.css";
import { CallOutcomes } from "./CallOutcomes";
import { RatesChart } from "./charts/RatesChart";
import { RunsPerDayChart } from "./charts/RunsPerDayChart";
import { FunnelCard } from "./FunnelCard";
import { OutcomeSummary } from "./OutcomeSummary";
import { apiWindow, dayLabel, type Range } from "./range";
import { StepTimes } from "./StepTimes";
import { useAnalyticsView } from "./useAnalyticsView";
import { VersionPicker } from "./VersionPicker";

/** One flow's runs in a window: per day and by outcome, the funnel on its canvas, A/B results,
 * call outcomes and the time each step takes. */
export default function FlowAnalyticsPage() {
  const { flowId = "" } = useParams();
  const { range, setRange, version, setVersion, showFlow, hrefFor } = useAnalyticsView();
  const flows = useResource(() => call(api.GET("/api/flows")), []);
  const flow = useResource(() => call(api.GET("/api/flows/{flow_id}", { params: { path: { flow_id: flowId } } })), [flowId]);
  const steps = useSteps();
  const query = { ...apiWindow(range), ...(version === null ? {} : { version }) };
  const report = useResource(
    () => call(api.GET("/api/analytics/flows/{flow_id}", { params: { path: { flow_id: flowId }, query } })),
    [flowId, query.since, query.until, query.include_test, version],
  );
  const name =
    report.resource.status === "ready"
      ? report.resource.data.name
      : flow.resource.status === "ready"
        ? flow.resource.data.name
        : flow.resource.status === "error" && flow.resource.error instanceof ApiProblem && flow.resource.error.status === 404
          ? "Flow not found"
          : "Flow";

  return (
    <section aria-labelledby="page-title" className="analytics-page">
      <header className="page-header">
        <div>
          <p className="breadcrumb">
            <Link to={hrefFor(null)}>Analytics</Link> <span aria-hidden="true">›</span>
          </p>
          <h1 id="page-title">{name}</h1>
        </div>
        {flow.resource.status === "ready" && (
          <div className="page-actions">
            <Link className="button" to={`/flows/${encodeURIComponent(flowId)}`}>
              Open in the builder
            </Link>
          </div>
        )}
      </header>
      <AnalyticsFilters range={range} onRange={setRange} flows={flows.resource} flowId={flowId} onFlow={showFlow}>
        <VersionPicker
          versions={flow.resource.status === "ready" ? flow.resource.data.versions : []}
          runs={report.resource.status === "ready" ? report.resource.data.versions : null}
          value={version}
          onChange={setVersion}
        />
      </AnalyticsFilters>
      {report.resource.status === "loading" && <LoadingState label="Loading the flow's figures…" />}
      {report.resource.status === "error" && (
        <ErrorState title="The flow's figures could not be loaded" error={report.resource.error} onRetry={report.retry} />
      )}
      {report.resource.status === "ready" && (
        <ReportFigures
          report={report.resource.data}
          range={range}
          flow={flow.resource}
          onRetryFlow={flow.retry}
          steps={steps.resource.status === "ready" ? steps.resource.data : null}
          stepsError={steps.resource.status === "error" ? steps.resource.error : null}
          onRetrySteps={steps.retry}
        />
      )}
    </section>
  );
}

interface ReportFiguresProps {
  report: Schemas["FlowReport"];
  range: Range;
  flow: ReturnType<typeof useResource<Schemas["FlowDetail"]>>["resource"];
  onRetryFlow: () => void;
  steps: StepInfo[] | null;
  stepsError: unknown;
  onRetrySteps: () => void;
}

function ReportFigures({ report, range, flow, onRetryFlow, steps, stepsError, onRetrySteps }: ReportFiguresProps) {
  // The graph of the version counted, or, counting every version, of the published (or newest).
  // Moving to another flow, its report may come before its details: until they match, the
  // previous flow's details say nothing of this one's versions.
  const details = flow.status === "ready" && flow.data.id === report.flow_id ? flow.data : null;
  const shown = report.version ?? defaultVersion(details);
  const version = useResource(
    () =>
      shown === null
        ? Promise.resolve(null)
        : call(api.GET("/api/flows/{flow_id}/versions/{number}", { params: { path: { flow_id: report.flow_id, number: shown } } })),
    [report.flow_id, shown],
  );
  const definition = useMemo(
    () => (version.resource.status === "ready" && version.resource.data !== null ? asDefinition(version.resource.data.definition) : null),
    [version.resource],
  );

  if (report.runs === 0) {
    return (
      <EmptyState
        title={`“${report.name}”${report.version === null ? "" : ` version ${report.version}`} has no runs from ${dayLabel(range.from)} to ${dayLabel(range.to)}.`}
      >
        <p>
          Its funnel, A/B results and step times appear once it has run: publish and enable it, then start it by its trigger or by
          hand{range.includeTest ? "" : " (test runs count only with “Include test runs”)"}. Or try a longer range.
        </p>
      </EmptyState>
    );
  }
  const types = new Map(definition?.nodes.map((node) => [node.id, node.type]) ?? []);
  const stepLabel = (nodeId: string) => {
    const type = types.get(nodeId);
    return type === undefined ? "" : (steps?.find((step) => step.type === type)?.label ?? type);
  };
  return (
    <>
      <OutcomeSummary totals={report} />
      <FunnelCard
        report={report}
        drawn={details?.versions.find((v) => v.number === shown) ?? null}
        definition={definition}
        problem={firstProblem([
          [flow.status === "error" ? flow.error : null, onRetryFlow, "The flow could not be loaded."],
          [version.resource.status === "error" ? version.resource.error : null, version.retry, "The version could not be loaded."],
          [stepsError, onRetrySteps, "The step catalogue could not be loaded."],
        ])}
        loading={
          flow.status === "loading" ||
          (flow.status === "ready" && details === null) ||
          version.resource.status === "loading" ||
          (steps === null && stepsError === null)
        }
        steps={steps}
        stepLabel={stepLabel}
      />
      <div className="chart-grid">
        <RunsPerDayChart perDay={report.per_day} range={range} />
        <RatesChart perDay={report.per_day} rates={report.rates} range={range} />
      </div>
      <div className="chart-grid">
        <AbResults results={report.ab_results} />
        <CallOutcomes outcomes={report.call_outcomes} />
      </div>
      <StepTimes times={report.step_times} stepLabel={stepLabel} />
      <AiUsage
        currency={report.currency}
        what="Step"
        rows={(report.ai_usage ?? []).map((usage) => ({
          ...usage,
          key: usage.node_id,
          label: (
            <>
              <code>{usage.node_id}</code> <span className="step-type">{stepLabel(usage.node_id)}</span>
            </>
          ),
        }))}
      />
    </>
  );
}

/** The version whose graph the funnel is drawn on at first: the published one, else the newest. */
function defaultVersion(flow: Schemas["FlowDetail"] | null): number | null {
  if (flow === null) return null;
  return flow.published_version ?? (Math.max(0, ...flow.versions.map((version) => version.number)) || null);
}

type Problem = { error: unknown; retry: () => void; title: string };

function firstProblem(candidates: [unknown, () => void, string][]): Problem | null {
  const found = candidates.find(([error]) => error !== null && error !== undefined);
  return found ? { error: found[0], retry: found[1], title: found[2] } : null;
}
