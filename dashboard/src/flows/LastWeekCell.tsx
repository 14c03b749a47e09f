import { Link } from "react-router";

import type { Flow } from "../api/client";
import { NO_RUNS, successRate, type FiguresState } from "./runFigures";

/** A flow's runs in the last seven days and the share of the finished ones that completed. */
export function LastWeekCell({ flow, figures }: { flow: Flow; figures: FiguresState }) {
  if (figures.status !== "ready") {
    const loading = figures.status === "loading";
    return (
      <td className="col-number" title={loading ? "Loading" : "Run figures are unavailable"}>
        {loading ? "…" : "unknown"}
      </td>
    );
  }
  const runs = figures.byFlow.get(flow.id) ?? NO_RUNS;
  return (
    <td className="col-number last-week" title={`${runs.completed} of ${runs.finished} finished runs completed`}>
      <span data-testid="runs">
        <Link to={`/analytics/${flow.id}?days=7`} aria-label={`${flow.name}: ${runs.runs} ${runs.runs === 1 ? "run" : "runs"}, open its analytics`}><strong>{runs.runs}</strong> {runs.runs === 1 ? "run" : "runs"}</Link>
      </span>
      <span data-testid="success" className="success-rate">
        {runs.finished > 0 ? `${successRate(runs)} success` : runs.runs > 0 ? "none finished yet" : "—"}
      </span>
    </td>
  );
}
