// The analytics overview's answer is a free-form object in the OpenAPI description, so its
// per-flow totals are read defensively here: a figure we cannot read shows as unknown.
export interface RunFigures {
  runs: number;
  completed: number;
  finished: number;
}

const FINISHED = ["completed", "failed", "cancelled", "skipped"];

function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

/** Runs per flow id, from `GET /api/analytics/overview`. */
export function figuresByFlow(overview: Record<string, unknown>): Map<string, RunFigures> {
  const figures = new Map<string, RunFigures>();
  const flows = Array.isArray(overview.flows) ? overview.flows : [];
  for (const entry of flows as Record<string, unknown>[]) {
    if (typeof entry?.flow_id !== "string") continue;
    const byStatus = (entry.by_status ?? {}) as Record<string, unknown>;
    figures.set(entry.flow_id, {
      runs: count(entry.runs),
      completed: count(byStatus.completed),
      finished: FINISHED.reduce((sum, status) => sum + count(byStatus[status]), 0),
    });
  }
  return figures;
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
