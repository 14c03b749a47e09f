import type { Schemas } from "../api/client";

export interface RunFigures {
  runs: number;
  completed: number;
  finished: number;
}

const FINISHED = ["completed", "failed", "cancelled", "skipped"];

/** Runs per flow id, from `GET /api/analytics/overview` (flows without runs are left out). */
export function figuresByFlow(overview: Schemas["Overview"]): Map<string, RunFigures> {
  return new Map(
    overview.flows.map((flow) => [
      flow.flow_id,
      {
        runs: flow.runs,
        completed: flow.by_status.completed ?? 0,
        finished: FINISHED.reduce((sum, status) => sum + (flow.by_status[status] ?? 0), 0),
      },
    ]),
  );
}

/** Last week's figures as a table shows them: still loading, unavailable, or per flow. */
export type FiguresState = { status: "loading" } | { status: "error" } | { status: "ready"; byFlow: Map<string, RunFigures> };

export const NO_RUNS: RunFigures = { runs: 0, completed: 0, finished: 0 };

/** "92%": the share of the finished runs that completed ("—" when none has finished). */
export function successRate(figures: RunFigures): string {
  if (figures.finished === 0) return "—";
  return `${Math.round((figures.completed / figures.finished) * 100)}%`;
}

/** The `since` of the last seven days, as the API takes it. */
export function sevenDaysAgo(now: Date = new Date()): string {
  return new Date(now.getTime() - 7 * 24 * 3600 * 1000).toISOString();
}
