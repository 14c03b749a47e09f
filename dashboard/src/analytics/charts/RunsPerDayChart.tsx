import { useMemo } from "react";
import uPlot from "uplot";

import type { Schemas } from "../../api/client";
import { count, countsOf, SERIES, SERIES_COLOURS, SERIES_LABELS, type Series } from "../figures";
import { dayLabel, daysOf, type Range } from "../range";
import { DayTable } from "./DayTable";
import { UPlotChart } from "./UPlotChart";
import { dayAxis, daySeconds } from "./time";

/** Stacked from the bottom: completed, failed, cancelled, skipped, in progress. */
function stackedData(days: string[], byDay: Map<string, Record<Series, number>>) {
  const raw = SERIES.map((series) => days.map((day) => byDay.get(day)?.[series] ?? 0));
  const stacked = raw.map((_, index) =>
    days.map((_, dayIndex) => raw.slice(0, index + 1).reduce((sum, values) => sum + (values[dayIndex] ?? 0), 0)),
  );
  return { raw, stacked };
}

/** Runs per UTC day of the range, stacked by how they ended (days without runs are zero). */
export function RunsPerDayChart({ perDay, range }: { perDay: Schemas["Day"][]; range: Pick<Range, "from" | "to"> }) {
  const days = useMemo(() => daysOf(range), [range.from, range.to]);
  const byDay = useMemo(() => new Map(perDay.map((day) => [day.day, countsOf(day)])), [perDay]);

  const { options, data } = useMemo(() => {
    const { raw, stacked } = stackedData(days, byDay);
    const bars = uPlot.paths.bars!({ size: [0.7, 48], gap: 1 });
    // uPlot draws series in order: the tallest stack first, each shorter one over it.
    const order = SERIES.map((_, index) => index).reverse();
    const options: Omit<uPlot.Options, "width" | "height"> = {
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
      scales: {
        x: { time: true, range: (_u, min, max) => [min - 43_200, max + 43_200] },
        y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] },
      },
      axes: [dayAxis(days), { values: (_u, splits) => splits.map((v) => (Number.isInteger(v) ? count(v) : "")) }],
      cursor: { points: { show: false } },
      series: [
        // Away from the chart, the legend shows the window's totals; over a day, that day's.
        { label: "Day", value: (_u, ts) => (ts == null ? `all ${days.length} days` : dayLabel(new Date(ts * 1000).toISOString().slice(0, 10))) },
        ...order.map((index) => {
          const series = SERIES[index]!;
          return {
            label: SERIES_LABELS[series],
            fill: SERIES_COLOURS[series],
            stroke: SERIES_COLOURS[series],
            width: 0,
            paths: bars,
            points: { show: false },
            value: (_u: uPlot, _v: number | null, _s: number, at: number | null) =>
              count(at == null ? raw[index]!.reduce((sum, n) => sum + n, 0) : (raw[index]![at] ?? 0)),
          } satisfies uPlot.Series;
        }),
      ],
    };
    const data: uPlot.AlignedData = [daySeconds(days), ...order.map((index) => stacked[index]!)];
    return { options, data };
  }, [days, byDay]);

  const total = perDay.reduce((sum, day) => sum + day.runs, 0);
  return (
    <figure className="chart" aria-labelledby="runs-per-day-title">
      <figcaption id="runs-per-day-title" className="chart-title">
        Runs per day <span className="chart-note">by outcome, UTC days</span>
      </figcaption>
      <UPlotChart options={options} data={data} height={240} label={`Runs per day: ${count(total)} runs in ${days.length} days`} />
      <DayTable
        caption="Runs per day"
        columns={SERIES.map((series) => ({ label: SERIES_LABELS[series], value: (day) => count(day.counts[series]) }))}
        rows={perDay.map((day) => ({ day: day.day, runs: day.runs, counts: countsOf(day), rates: day.rates }))}
      />
    </figure>
  );
}
