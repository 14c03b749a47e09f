import type uPlot from "uplot";

/** Each day's midnight (UTC) in seconds, uPlot's x values. */
export function daySeconds(days: string[]): number[] {
  return days.map((day) => Date.parse(`${day}T00:00:00Z`) / 1000);
}

/** The x axis of a chart of days: one tick a day, or every n-th day so that about a dozen show. */
export function dayAxis(days: string[]): uPlot.Axis {
  const every = Math.max(1, Math.ceil(days.length / 12));
  // Counted back from the last day, so that the newest day (usually today) always has its label.
  const ticks = daySeconds(days).filter((_, index) => (days.length - 1 - index) % every === 0);
  return {
    splits: () => ticks,
    values: (_u, splits) =>
      splits.map((seconds) =>
        new Date(seconds * 1000).toLocaleDateString("en-GB", { day: "numeric", month: "short", timeZone: "UTC" }),
      ),
    grid: { show: false },
  };
}
