import type { ReactNode } from "react";

export interface BarSegment {
  label: string;
  value: number;
  colour: string;
}

export interface BarRow {
  key: string;
  label: ReactNode;
  /** One segment draws a plain bar; several are stacked left to right. */
  segments: BarSegment[];
  /** The figure written beside the bar. */
  text: string;
}

/** Horizontal bars on one scale, for figures per node or per variant (categories, not time):
 * a list of label, bar and figure that reads well with a screen reader too. */
export function BarList({ label, rows, max }: { label: string; rows: BarRow[]; max?: number }) {
  const top = max ?? Math.max(1, ...rows.map((row) => row.segments.reduce((sum, s) => sum + s.value, 0)));
  return (
    <ul className="bar-list" aria-label={label}>
      {rows.map((row) => (
        <li key={row.key} className="bar-row" data-key={row.key}>
          <span className="bar-label">{row.label}</span>
          <span className="bar-track" aria-hidden="true">
            {row.segments.map((segment) =>
              segment.value > 0 ? (
                <span
                  key={segment.label}
                  className="bar-fill"
                  title={`${segment.label}: ${segment.value}`}
                  style={{ width: `${(segment.value / top) * 100}%`, background: segment.colour }}
                />
              ) : null,
            )}
          </span>
          <span className="bar-value">{row.text}</span>
        </li>
      ))}
    </ul>
  );
}
