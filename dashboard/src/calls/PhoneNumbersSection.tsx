import { useState } from "react";
import { Link } from "react-router";

import { api, call, type Flow } from "../api/client";
import { useResource } from "../api/useResource";
import type { Outcome } from "../components/ActionMessage";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { EmptyState } from "../components/EmptyState";
import { ErrorState } from "../components/ErrorState";
import { LoadingState } from "../components/LoadingState";
import type { Deployment, PhoneNumber } from "./board";
import { DeployDialog, type Environment } from "./DeployDialog";
import { PhoneNumberDialog } from "./PhoneNumberDialog";
import { Clock } from "./Clock";

const ENVIRONMENTS: Environment[] = ["production", "staging"];
const ENVIRONMENT_LABELS: Record<Environment, string> = { production: "Production", staging: "Staging" };

type Editing =
  | { kind: "number"; phoneNumber: PhoneNumber | null }
  | { kind: "deploy"; phoneNumber: PhoneNumber; environment: Environment }
  | { kind: "undeploy"; phoneNumber: PhoneNumber; environment: Environment; deployment: Deployment }
  | { kind: "delete"; phoneNumber: PhoneNumber };

interface PhoneNumbersSectionProps {
  canEdit: boolean;
  onOutcome: (outcome: Outcome) => void;
}

/** The tenant's numbers and, per environment, which flow and version answers each. */
export function PhoneNumbersSection({ canEdit, onOutcome }: PhoneNumbersSectionProps) {
  const numbers = useResource(() => call(api.GET("/api/phone-numbers")), []);
  const flows = useResource(() => call(api.GET("/api/flows")), []);
  const [editing, setEditing] = useState<Editing | null>(null);

  const flowList: Flow[] = flows.resource.status === "ready" ? flows.resource.data : [];
  const flowNames = new Map(flowList.map((flow) => [flow.id, flow.name]));
  const close = () => setEditing(null);
  const done = (text: string) => {
    setEditing(null);
    numbers.reload();
    onOutcome({ kind: "done", text });
  };

  function deploymentCell(phoneNumber: PhoneNumber, environment: Environment) {
    const deployment = phoneNumber.deployments[environment] ?? null;
    if (!deployment) {
      return (
        <td data-environment={environment}>
          <span className="muted">Nothing deployed</span>
          {canEdit && (
            <button
              type="button"
              className="button-quiet"
              onClick={() => setEditing({ kind: "deploy", phoneNumber, environment })}
              aria-label={`Deploy a flow to ${phoneNumber.number} in ${environment}`}
            >
              Deploy…
            </button>
          )}
        </td>
      );
    }
    const name = flowNames.get(deployment.flow_id) ?? (flows.resource.status === "loading" ? "…" : "A deleted flow");
    return (
      <td data-environment={environment} className="deployment-cell">
        <span className="deployment">
          <Link to={`/flows/${deployment.flow_id}`}>{name}</Link> <span className="status-badge status-on">v{deployment.version}</span>
        </span>
        <span className="flow-description">
          since <Clock iso={deployment.created_at} />
          {deployment.schedule && " · with a schedule"}
          {deployment.fallback_flow_id && ` · fallback ${flowNames.get(deployment.fallback_flow_id) ?? "flow"}`}
        </span>
        {canEdit && (
          <button
            type="button"
            className="button-quiet button-quiet-danger"
            onClick={() => setEditing({ kind: "undeploy", phoneNumber, environment, deployment })}
            aria-label={`Remove the ${environment} deployment of ${phoneNumber.number}`}
          >
            Remove
          </button>
        )}
      </td>
    );
  }

  function body() {
    switch (numbers.resource.status) {
      case "loading":
        return <LoadingState label="Loading phone numbers…" />;
      case "error":
        return <ErrorState title="The phone numbers could not be loaded" error={numbers.resource.error} onRetry={numbers.retry} />;
      case "ready":
        break;
    }
    const rows = numbers.resource.data;
    if (rows.length === 0) {
      return (
        <EmptyState title="No phone numbers yet">
          <p>{canEdit ? "Add the numbers you own, then deploy a flow to answer each." : "A manager adds the numbers the tenant owns."}</p>
        </EmptyState>
      );
    }
    return (
      <div className="table-frame">
        <table className="flow-table" aria-label="Phone numbers">
          <colgroup>
            <col className="width-number" />
            <col />
            <col />
            {canEdit && <col className="width-number-actions" />}
          </colgroup>
          <thead>
            <tr>
              <th scope="col">Number</th>
              {ENVIRONMENTS.map((environment) => (
                <th scope="col" key={environment}>
                  {ENVIRONMENT_LABELS[environment]}
                </th>
              ))}
              {canEdit && (
                <th scope="col" className="col-actions">
                  <span className="visually-hidden">Actions</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {rows.map((phoneNumber) => (
              <tr key={phoneNumber.id} className="number-row" data-number={phoneNumber.number}>
                <th scope="row" className="flow-name">
                  <span>{phoneNumber.number}</span>
                  {phoneNumber.label && <span className="flow-description">{phoneNumber.label}</span>}
                </th>
                {ENVIRONMENTS.map((environment) => deploymentCell(phoneNumber, environment))}
                {canEdit && (
                  <td className="col-actions">
                    <button type="button" className="button-quiet" onClick={() => setEditing({ kind: "number", phoneNumber })} aria-label={`Edit ${phoneNumber.number}`}>
                      Edit
                    </button>
                    <button
                      type="button"
                      className="button-quiet button-quiet-danger"
                      onClick={() => setEditing({ kind: "delete", phoneNumber })}
                      aria-label={`Delete ${phoneNumber.number}`}
                    >
                      Delete
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );
  }

  return (
    <section aria-labelledby="numbers-title" className="calls-section">
      <header className="section-header">
        <h2 id="numbers-title">Phone numbers</h2>
        {canEdit && (
          <button type="button" className="button" onClick={() => setEditing({ kind: "number", phoneNumber: null })}>
            New number
          </button>
        )}
      </header>
      {body()}
      {editing?.kind === "number" && (
        <PhoneNumberDialog
          phoneNumber={editing.phoneNumber}
          onClose={close}
          onSaved={(saved) => done(editing.phoneNumber ? `Saved ${saved.number}.` : `Added ${saved.number}.`)}
        />
      )}
      {editing?.kind === "deploy" && (
        <DeployDialog phoneNumber={editing.phoneNumber} environment={editing.environment} flows={flowList} onClose={close} onDeployed={done} />
      )}
      {editing?.kind === "undeploy" && (
        <ConfirmDialog
          title={`Remove the ${editing.environment} deployment of ${editing.phoneNumber.number}?`}
          confirmLabel="Remove deployment"
          onClose={close}
          onConfirm={async () => {
            const { phoneNumber, environment } = editing;
            await call(
              api.DELETE("/api/phone-numbers/{phone_number_id}/deployments/{environment}", {
                params: { path: { phone_number_id: phoneNumber.id, environment } },
              }),
            );
            done(`${phoneNumber.number} no longer answers with a flow in ${environment}.`);
          }}
        >
          <p>
            New calls to this number in {editing.environment} are no longer answered by “
            {flowNames.get(editing.deployment.flow_id) ?? "its flow"}”. Calls under way go on; the deployment stays in the flow's history.
          </p>
        </ConfirmDialog>
      )}
      {editing?.kind === "delete" && (
        <ConfirmDialog
          title={`Delete ${editing.phoneNumber.number}?`}
          confirmLabel="Delete number"
          onClose={close}
          onConfirm={async () => {
            const { phoneNumber } = editing;
            await call(api.DELETE("/api/phone-numbers/{phone_number_id}", { params: { path: { phone_number_id: phoneNumber.id } } }));
            done(`Deleted ${phoneNumber.number}.`);
          }}
        >
          <p>The number leaves Flowdeck. A number that a flow is deployed to cannot be deleted: remove its deployments first.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}
