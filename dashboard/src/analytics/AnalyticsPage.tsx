import { Link } from "react-router";

import { api, call, type Schemas } from "../api/client";
import { useResource } from "../api/useResource";
import { EmptyState } from "../components/EmptyState";
import { ErrorState } from "../components/ErrorState";
import { LoadingState } from "../components/LoadingState";
import { AiUsage } from "./AiUsage";
import { AnalyticsFilters } from "./AnalyticsFilters";
import "./analytics.css";
import { RatesChart } from "./charts/RatesChart";
import { RunsPerDayChart } from "./charts/RunsPerDayChart";
import { count, countsOf, OUTCOMES, percent, SERIES_LABELS } from "./figures";
import { OutcomeSummary } from "./OutcomeSummary";
import { apiWindow, dayLabel, type Range } from "./range";
import { useAnalyticsView } from "./useAnalyticsView";

/** All the tenant's runs in a window: per day, by outcome, and per flow. */
export default function AnalyticsPage() {
  const { range, setRange, showFlow, hrefFor } = useAnalyticsView();
  const flows = useResource(() => call(api.GET("/api/flows")), []);
  const query = apiWindow(range);
  const overview = useResource(
    () => call(api.GET("/api/analytics/overview", { params: { query } })),
    [query.since, query.until, query.include_test],
  );

  return (
    <section aria-labelledby="page-title" className="analytics-page">
      <header className="page-header">
        <h1 id="page-title">Analytics</h1>
      </header>
      <AnalyticsFilters range={range} onRange={setRange} flows={flows.resource} flowId={null} onFlow={showFlow} />
      {overview.resource.status === "loading" && <LoadingState label="Loading the figures…" />}
      {overview.resource.status === "error" && (
        <ErrorState title="The figures could not be loaded" error={overview.resource.error} onRetry={overview.retry} />
      )}
      {overview.resource.status === "ready" && (
        <OverviewFigures overview={overview.resource.data} range={range} hrefFor={hrefFor} />
      )}
    </section>
  );
}

function OverviewFigures({ overview, range, hrefFor }: { overview: Schemas["Overview"]; range: Range; hrefFor: (flowId: string) => string }) {
  if (overview.runs === 0) {
    return (
      <EmptyState title={`No runs from ${dayLabel(range.from)} to ${dayLabel(range.to)}.`}>
        <p>
          Runs appear here once a published, enabled flow is started: by a lead, a call, a message, a campaign or by hand
          {range.includeTest ? "" : " (test runs count only with “Include test runs”)"}. Try a longer range.
        </p>
      </EmptyState>
    );
  }
  return (
    <>
      <OutcomeSummary totals={overview} />
      <div className="chart-grid">
        <RunsPerDayChart perDay={overview.per_day} range={range} />
        <RatesChart perDay={overview.per_day} rates={overview.rates} range={range} />
      </div>
      <h2 id="per-flow-title">Per flow</h2>
      <p className="hint">Flows with runs in this window, most runs first. Open one for its funnel, A/B results and step times.</p>
      <div className="table-frame">
        <table className="figures-table per-flow-table" aria-labelledby="per-flow-title">
          <thead>
            <tr>
              <th scope="col">Flow</th>
              <th scope="col" className="col-number">
                Runs
              </th>
              {OUTCOMES.map((outcome) => (
                <th key={outcome} scope="col" className="col-number">
                  {SERIES_LABELS[outcome]}
                </th>
              ))}
              <th scope="col" className="col-number">
                In progress
              </th>
            </tr>
          </thead>
          <tbody>
            {overview.flows.map((flow) => {
              const counts = countsOf(flow);
              return (
                <tr key={flow.flow_id} data-flow-id={flow.flow_id}>
                  <th scope="row">
                    <Link to={hrefFor(flow.flow_id)}>{flow.name}</Link>
                  </th>
                  <td className="col-number">{count(flow.runs)}</td>
                  {OUTCOMES.map((outcome) => (
                    <td key={outcome} className="col-number" data-outcome={outcome}>
                      {count(counts[outcome])} <span className="rate">({percent(flow.rates[outcome])})</span>
                    </td>
                  ))}
                  <td className="col-number">{count(counts.in_progress)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <AiUsage
        currency={overview.currency}
        what="Flow"
        rows={(overview.ai_usage ?? []).map((usage) => ({
          ...usage,
          key: usage.flow_id,
          label: <Link to={hrefFor(usage.flow_id)}>{overview.flows.find((flow) => flow.flow_id === usage.flow_id)?.name ?? usage.flow_id}</Link>,
        }))}
      />
    </>
  );
}
