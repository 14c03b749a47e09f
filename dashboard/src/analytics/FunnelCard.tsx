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
  versions: Schemas["VersionSummary"][];
  /** The version whose graph is drawn. */
  shown: number | null;
  onPick: (version: number) => void;
  definition: FlowDefinition | null;
  /** What kept the graph from loading (the figures are there all the same). */
  problem: { error: unknown; retry: () => void; title: string } | null;
  loading: boolean;
  steps: StepInfo[] | null;
  stepLabel: (nodeId: string) => string;
}

function versionLabel(version: Schemas["VersionSummary"]): string {
  return `Version ${version.number} (${version.status})`;
}

/** Where runs go and where they stop: the counts on the flow's canvas, and as a table. */
export function FunnelCard({ report, versions, shown, onPick, definition, problem, loading, steps, stepLabel }: FunnelCardProps) {
  const [selected, setSelected] = useState<string | null>(null);
  const rows = useMemo(() => (definition ? funnelRows(definition, report) : []), [definition, report]);
  const overlay = useMemo(() => funnelOverlay(rows), [rows]);
  const ordered = [...versions].sort((a, b) => b.number - a.number);
  const picked = rows.find((row) => row.nodeId === selected) ?? null;

  return (
    <section className="card funnel-card" aria-labelledby="funnel-title">
      <div className="card-header">
        <h2 id="funnel-title">Funnel</h2>
        {ordered.length > 0 && (
          <label className="filter filter-inline">
            <span>Drawn on</span>
            <select value={shown ?? ""} onChange={(event) => onPick(Number(event.target.value))}>
              {ordered.map((version) => (
                <option key={version.number} value={version.number}>
                  {versionLabel(version)}
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      <p className="hint">
        Each step shows the runs that reached it and their share of those that started; each arrow, the runs that took it. Steps
        nobody reached are dimmed. The counts are of every run in the window, whichever version it ran.
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
