import type { Schemas } from "../../api/client";
import type { Series } from "../figures";
import { dayLabel } from "../range";

export interface DayRow {
  day: string;
  runs: number;
  counts: Record<Series, number>;
  rates: Schemas["Rates"];
}

interface DayTableProps {
  caption: string;
  columns: { label: string; value: (row: DayRow) => string }[];
  rows: DayRow[];
}

/** A chart's figures as a table, folded under it: the exact numbers, and the chart for screen
 * readers. Days without runs are left out, as the API leaves them out. */
export function DayTable({ caption, columns, rows }: DayTableProps) {
  return (
    <details className="chart-figures">
      <summary>Show the figures</summary>
      {rows.length === 0 ? (
        <p className="hint">No day in this range has runs.</p>
      ) : (
        <div className="table-frame">
          <table className="figures-table">
            <caption className="visually-hidden">{caption}</caption>
            <thead>
              <tr>
                <th scope="col">Day</th>
                <th scope="col" className="col-number">
                  Runs
                </th>
                {columns.map((column) => (
                  <th key={column.label} scope="col" className="col-number">
                    {column.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.day} data-day={row.day}>
                  <th scope="row">{dayLabel(row.day)}</th>
                  <td className="col-number">{row.runs}</td>
                  {columns.map((column) => (
                    <td key={column.label} className="col-number">
                      {column.value(row)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </details>
  );
}
