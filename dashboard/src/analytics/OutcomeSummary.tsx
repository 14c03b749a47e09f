import type { Schemas } from "../api/client";
import { count, countsOf, OUTCOMES, percent, SERIES_COLOURS, SERIES_LABELS } from "./figures";

type Totals = Pick<Schemas["Overview"], "runs" | "by_status" | "rates">;

/** The window's runs and each outcome's rate, as tiles above the charts. */
export function OutcomeSummary({ totals }: { totals: Totals }) {
  const counts = countsOf(totals);
  return (
    <dl className="outcome-summary">
      <div className="tile" data-testid="tile-runs">
        <dt>Runs</dt>
        <dd className="tile-figure">{count(totals.runs)}</dd>
        <dd className="tile-note">{counts.in_progress > 0 ? `${count(counts.in_progress)} in progress` : "all finished"}</dd>
      </div>
      {OUTCOMES.map((outcome) => (
        <div key={outcome} className="tile" data-testid={`tile-${outcome}`}>
          <dt>
            <span className="swatch" style={{ background: SERIES_COLOURS[outcome] }} aria-hidden="true" />
            {SERIES_LABELS[outcome]}
          </dt>
          <dd className="tile-figure">{percent(totals.rates[outcome])}</dd>
          <dd className="tile-note">{`${count(counts[outcome])} of ${count(totals.runs)}`}</dd>
        </div>
      ))}
    </dl>
  );
}
