import { useMemo } from "react";
import uPlot from "uplot";

import type { Schemas } from "../../api/client";
import { countsOf, OUTCOMES, percent, SERIES_COLOURS, SERIES_LABELS } from "../figures";
import { dayLabel, daysOf, type Range } from "../range";
import { DayTable } from "./DayTable";
import { UPlotChart } from "./UPlotChart";
import { dayAxis, daySeconds } from "./time";

/** Each outcome's share of the day's runs, per UTC day (a gap where a day has no runs). */
interface RatesChartProps {
  perDay: Schemas["Day"][];
  /** The window's rates, which the legend shows away from the chart. */
  rates: Schemas["Rates"];
  range: Pick<Range, "from" | "to">;
}

export function RatesChart({ perDay, rates, range }: RatesChartProps) {
  const days = useMemo(() => daysOf(range), [range.from, range.to]);

  const { options, data } = useMemo(() => {
    const byDay = new Map(perDay.map((day) => [day.day, day.rates]));
    const options: Omit<uPlot.Options, "width" | "height"> = {
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
      scales: {
        x: { time: true, range: (_u, min, max) => [min - 43_200, max + 43_200] },
        y: { range: [0, 100] },
      },
      axes: [dayAxis(days), { values: (_u, splits) => splits.map((v) => `${v}%`) }],
      series: [
        { label: "Day", value: (_u, ts) => (ts == null ? `all ${days.length} days` : dayLabel(new Date(ts * 1000).toISOString().slice(0, 10))) },
        ...OUTCOMES.map(
          (outcome): uPlot.Series => ({
            label: SERIES_LABELS[outcome],
            stroke: SERIES_COLOURS[outcome],
            width: 2,
            points: { show: true, size: 6, fill: SERIES_COLOURS[outcome] },
            spanGaps: false,
            value: (_u, v, _s, at) => (at == null ? percent(rates[outcome]) : v == null ? "no runs" : percent(v / 100)),
          }),
        ),
      ],
    };
    const data: uPlot.AlignedData = [
      daySeconds(days),
      ...OUTCOMES.map((outcome) =>
        days.map((day) => {
          const rates = byDay.get(day);
          return rates === undefined ? null : Math.round(rates[outcome] * 1000) / 10;
        }),
      ),
    ];
    return { options, data };
  }, [days, perDay, rates]);

  return (
    <figure className="chart" aria-labelledby="rates-title">
      <figcaption id="rates-title" className="chart-title">
        Outcome rates <span className="chart-note">share of each day's runs</span>
      </figcaption>
      <UPlotChart options={options} data={data} height={240} label="Completed, failed, cancelled and skipped runs as a share of each day's runs" />
      <DayTable
        caption="Outcome rates per day"
        columns={OUTCOMES.map((outcome) => ({ label: SERIES_LABELS[outcome], value: (day) => percent(day.rates[outcome]) }))}
        rows={perDay.map((day) => ({ day: day.day, runs: day.runs, counts: countsOf(day), rates: day.rates }))}
      />
    </figure>
  );
}
