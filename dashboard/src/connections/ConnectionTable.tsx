import { Fragment } from "react";

import { messageOf, type Schemas } from "../api/client";
import { shortDate, shortTime } from "../contacts/format";
import { authLabel, fieldLabel, integrationLabel, settingLabel, settingValue, type Connection, type Integration } from "./connections";

export type TestState =
  | { status: "untested" }
  | { status: "testing" }
  | { status: "done"; result: Schemas["ConnectionTestResult"] }
  | { status: "error"; error: unknown };

interface ConnectionTableProps {
  connections: Connection[];
  integrations: Integration[] | null;
  editable: boolean;
  tests: Record<string, TestState>;
  onTest: (connection: Connection) => void;
  onReplace: (connection: Connection) => void;
  onDelete: (connection: Connection) => void;
}

const COLUMNS = 6;

/** Each connection: its integration, auth kind and masked secret, settings, dates, and for
 * managers its actions, with the last test's answer under it. */
export function ConnectionTable({ connections, integrations, editable, tests, onTest, onReplace, onDelete }: ConnectionTableProps) {
  return (
    <div className="table-frame">
      <table className="records-table connections-table" aria-label="Connections">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Auth</th>
            <th scope="col">Secret</th>
            <th scope="col">Settings</th>
            <th scope="col">Updated</th>
            {editable && (
              <th scope="col" className="col-actions">
                <span className="visually-hidden">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {connections.map((connection) => {
            const test = tests[connection.id] ?? { status: "untested" };
            return (
              <Fragment key={connection.id}>
                <tr className="connection-row" data-connection={connection.name}>
                  <th scope="row" className="cell-main">
                    {connection.name}
                    <span className="cell-sub">{integrationLabel(integrations, connection.integration)}</span>
                  </th>
                  <td className="cell-nowrap">{authLabel(connection.auth)}</td>
                  <td className="secret-cell">
                    <dl className="pairs" data-testid="secret">
                      {Object.entries(connection.secret).map(([name, masked]) => (
                        <div key={name}>
                          <dt>{fieldLabel(name)}:</dt>
                          <dd>
                            <code>{masked}</code>
                          </dd>
                        </div>
                      ))}
                    </dl>
                  </td>
                  <td className="settings-cell">
                    {Object.keys(connection.settings).length === 0 ? (
                      <span className="cell-soft">none</span>
                    ) : (
                      <dl className="pairs" data-testid="settings">
                        {Object.entries(connection.settings).map(([name, value]) => (
                          <div key={name}>
                            <dt>{settingLabel(name)}:</dt>
                            <dd className="setting-value">{settingValue(value)}</dd>
                          </div>
                        ))}
                      </dl>
                    )}
                  </td>
                  <td className="cell-soft cell-nowrap">
                    <span title={shortTime(connection.updated_at)}>{shortDate(connection.updated_at)}</span>
                    <span className="cell-sub" title={shortTime(connection.created_at)}>
                      created {shortDate(connection.created_at)}
                    </span>
                  </td>
                  {editable && (
                    <td className="col-actions">
                      <button
                        type="button"
                        className="button-quiet"
                        aria-label={`Test ${connection.name}`}
                        onClick={() => onTest(connection)}
                        disabled={test.status === "testing"}
                      >
                        Test
                      </button>
                      <button type="button" className="button-quiet" aria-label={`Replace the secret of ${connection.name}`} onClick={() => onReplace(connection)}>
                        Replace secret
                      </button>
                      <button
                        type="button"
                        className="button-quiet button-quiet-danger"
                        aria-label={`Delete ${connection.name}`}
                        onClick={() => onDelete(connection)}
                      >
                        Delete
                      </button>
                    </td>
                  )}
                </tr>
                {test.status !== "untested" && (
                  <tr className="connection-test-row">
                    <td colSpan={editable ? COLUMNS : COLUMNS - 1}>
                      <TestAnswer name={connection.name} test={test} />
                    </td>
                  </tr>
                )}
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

const OUTCOME_LABELS: Record<Schemas["ConnectionTestResult"]["outcome"], string> = {
  ok: "Test passed",
  failed: "Test failed",
  not_available: "No test for this integration",
};

/** What the test call answered: passed, failed (and why), or that there is no test. */
function TestAnswer({ name, test }: { name: string; test: TestState }) {
  return (
    <div className="connection-test" role="status" aria-live="polite" data-testid={`test-${name}`}>
      {test.status === "testing" && <span className="cell-soft">Testing “{name}”…</span>}
      {test.status === "done" && (
        <>
          <span className={`status-badge test-${test.result.outcome}`}>{OUTCOME_LABELS[test.result.outcome]}</span>
          {test.result.latency_ms !== null && test.result.latency_ms !== undefined && (
            <span className="cell-soft">{test.result.latency_ms} ms</span>
          )}
          <span className="test-message">{test.result.message}</span>
        </>
      )}
      {test.status === "error" && (
        <>
          <span className="status-badge test-failed">Test not run</span>
          <span className="test-message">{messageOf(test.error)}</span>
        </>
      )}
    </div>
  );
}
