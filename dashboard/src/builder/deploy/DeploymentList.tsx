import type { Schemas } from "../../api/client";
import { EmptyState } from "../../components/EmptyState";
import { when } from "../versions/format";

type Deployment = Schemas["DeploymentOut"];

function schedule(deployment: Deployment): string {
  const hours = deployment.schedule as Schemas["BusinessHours"] | null;
  if (!hours) return "always";
  const days = hours.days?.join(", ") ?? "mon to fri";
  return `${days}, ${hours.start} to ${hours.end} (${hours.timezone ?? "UTC"})`;
}

interface RowsProps {
  rows: Deployment[];
  flowNames: Map<string, string>;
  onStop?: ((deployment: Deployment) => void) | undefined;
}

function Rows({ rows, flowNames, onStop }: RowsProps) {
  return (
    <table className="deploy-table">
      <thead>
        <tr>
          <th scope="col">Number</th>
          <th scope="col">Environment</th>
          <th scope="col">Version</th>
          <th scope="col">Schedule</th>
          <th scope="col">Fallback</th>
          <th scope="col">Since</th>
          {onStop && (
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          )}
        </tr>
      </thead>
      <tbody>
        {rows.map((d) => (
          <tr key={d.id}>
            <th scope="row">{d.number}</th>
            <td>{d.environment}</td>
            <td>v{d.version}</td>
            <td>{schedule(d)}</td>
            <td>{d.fallback_flow_id ? (flowNames.get(d.fallback_flow_id) ?? d.fallback_flow_id) : "—"}</td>
            <td>
              {when(d.created_at)}
              {d.replaced_at && <span className="muted"> until {when(d.replaced_at)}</span>}
            </td>
            {onStop && (
              <td className="col-actions">
                <button
                  type="button"
                  className="button-quiet button-quiet-danger"
                  onClick={() => onStop(d)}
                  aria-label={`Stop ${d.number} answering in ${d.environment}`}
                >
                  Stop
                </button>
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

interface DeploymentListProps {
  deployments: Deployment[];
  flowNames: Map<string, string>;
  /** Stop a number answering with this flow (editors only). */
  onStop?: ((deployment: Deployment) => void) | undefined;
}

/** Where the flow answers calls now, and where it did before. */
export function DeploymentList({ deployments, flowNames, onStop }: DeploymentListProps) {
  const active = deployments.filter((d) => d.active);
  const replaced = deployments.filter((d) => !d.active);
  return (
    <section aria-labelledby="deployments-title" className="deployments">
      <h3 id="deployments-title">Current deployments</h3>
      {active.length === 0 ? (
        <EmptyState title="Not deployed">
          <p>No phone number answers with this flow yet.</p>
        </EmptyState>
      ) : (
        <div className="table-frame">
          <Rows rows={active} flowNames={flowNames} onStop={onStop} />
        </div>
      )}
      {replaced.length > 0 && (
        <details className="deploy-history">
          <summary>Earlier deployments ({replaced.length})</summary>
          <div className="table-frame">
            <Rows rows={replaced} flowNames={flowNames} />
          </div>
        </details>
      )}
    </section>
  );
}
