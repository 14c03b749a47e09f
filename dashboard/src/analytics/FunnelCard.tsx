import { useMemo, useState } from "react";

import type { Schemas } from "../api/client";
import { FlowDiagram, type FlowDefinition, type StepInfo } from "../canvas";
import { ErrorState } from "../components/ErrorState";
import { LoadingState } from "../components/LoadingState";
import { count, percent } from "./figures";
import { funnelOverlay, funnelRows } from "./funnel";
import { FunnelTable } from "./FunnelTable";

interface FunnelCardProps {
  report: Schemas["FlowReport"];
  /** The version whose graph is drawn. */
  drawn: Schemas["VersionSummary"] | null;
  definition: FlowDefinition | null;
  /** What kept the graph from loading (the figures are there all the same). */
  problem: { error: unknown; retry: () => void; title: string } | null;
  loading: boolean;
  steps: StepInfo[] | null;
  stepLabel: (nodeId: string) => string;
}

/** Where runs go and where they stop: the counts on the flow's canvas, and as a table. */
export function FunnelCard({ report, drawn, definition, problem, loading, steps, stepLabel }: FunnelCardProps) {
  const [selected, setSelected] = useState<string | null>(null);
  const rows = useMemo(() => (definition ? funnelRows(definition, report) : []), [definition, report]);
  const overlay = useMemo(() => funnelOverlay(rows), [rows]);
  const picked = rows.find((row) => row.nodeId === selected) ?? null;

  return (
    <section className="card funnel-card" aria-labelledby="funnel-title">
      <div className="card-header">
        <h2 id="funnel-title">Funnel</h2>
        {drawn !== null && (
          <span className="drawn-on" data-testid="drawn-on">
            Drawn on version {drawn.number} ({drawn.status})
          </span>
        )}
      </div>
      <p className="hint">
        Each step shows the runs that reached it and their share of those that started; each arrow, the runs that took it. Steps
        nobody reached are dimmed.{" "}
        {report.version === null
          ? "The counts are of every run in the window, whichever version it ran: pick a version above for its runs alone."
          : `The counts are of the runs pinned to version ${report.version}.`}
      </p>
      {problem !== null ? (
        <ErrorState title={problem.title} error={problem.error} onRetry={problem.retry} />
      ) : loading || definition === null || steps === null ? (
        <LoadingState label="Loading the flow's graph…" />
      ) : (
        <>
          <FlowDiagram
            definition={definition}
            steps={steps}
            overlay={overlay}
            selected={selected}
            onNodeClick={(nodeId) => setSelected((current) => (current === nodeId ? null : nodeId))}
            height={460}
          />
          <p className="funnel-detail" aria-live="polite">
            {picked === null
              ? "Select a step for its figures."
              : `${picked.nodeId}: reached by ${count(picked.reached)} (${percent(picked.share)} of start)` +
                (picked.ports.length > 0 ? `, left by ${picked.ports.map((port) => `${port.port} ${count(port.executions)}`).join(", ")}` : "") +
                `; ${count(picked.stopped)} went no further.`}
          </p>
          <details className="chart-figures" open>
            <summary>The funnel as a table</summary>
            <FunnelTable rows={rows} stepLabel={stepLabel} />
          </details>
        </>
      )}
    </section>
  );
}
