import { count, percent } from "./figures";
import type { FunnelRow } from "./funnel";

/** The funnel as a table: the exact figures behind the canvas's badges, keyboard-readable. */
export function FunnelTable({ rows, stepLabel }: { rows: FunnelRow[]; stepLabel: (nodeId: string) => string }) {
  return (
    <div className="table-frame">
      <table className="figures-table funnel-table" aria-label="Funnel per step">
        <thead>
          <tr>
            <th scope="col">Step</th>
            <th scope="col" className="col-number">
              Reached
            </th>
            <th scope="col" className="col-number">
              Of start
            </th>
            <th scope="col">Left by</th>
            <th scope="col" className="col-number">
              Went no further
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.nodeId} data-node-id={row.nodeId} className={row.reached === 0 ? "funnel-unreached" : undefined}>
              <th scope="row">
                <code>{row.nodeId}</code> <span className="step-type">{row.elsewhere ? "not in this version" : stepLabel(row.nodeId)}</span>
              </th>
              <td className="col-number" data-testid="reached">
                {count(row.reached)}
              </td>
              <td className="col-number" data-testid="share">
                {percent(row.share)}
              </td>
              <td data-testid="ports">
                {row.ports.length === 0
                  ? "—"
                  : row.ports.map((port) => `${port.port} ${count(port.executions)}`).join(", ")}
              </td>
              <td className="col-number" data-testid="stopped">
                {count(row.stopped)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
