import { useState } from "react";

import { api, call, type Flow } from "../api/client";
import { Dialog } from "../components/Dialog";
import type { PhoneNumber } from "./board";
import { FormProblem } from "./FormProblem";
import { useSubmit } from "./useSubmit";

export type Environment = "production" | "staging";

interface DeployDialogProps {
  phoneNumber: PhoneNumber;
  environment: Environment;
  flows: Flow[];
  onDeployed: (text: string) => void;
  onClose: () => void;
}

/** Which published flow answers the number in an environment (its published version); the
 * builder deploys with a schedule and a fallback flow too. */
export function DeployDialog({ phoneNumber, environment, flows, onDeployed, onClose }: DeployDialogProps) {
  const published = flows.filter((flow) => flow.published_version !== null);
  const [flowId, setFlowId] = useState(published[0]?.id ?? "");

  const { pending, error, submit } = useSubmit(async () => {
    const flow = published.find((candidate) => candidate.id === flowId);
    if (!flow) return;
    await call(
      api.POST("/api/flows/{flow_id}/deploy", {
        params: { path: { flow_id: flow.id } },
        body: { phone_numbers: [phoneNumber.number], environment },
      }),
    );
    onDeployed(`"${flow.name}" v${flow.published_version} now answers ${phoneNumber.number} in ${environment}.`);
  });

  return (
    <Dialog title={`Deploy to ${phoneNumber.number} (${environment})`} onClose={onClose}>
      <form onSubmit={submit} className="form">
        {published.length === 0 ? (
          <p className="hint">No flow is published yet: publish one in the builder first.</p>
        ) : (
          <>
            <label htmlFor="deploy-flow">Flow</label>
            <select id="deploy-flow" value={flowId} onChange={(e) => setFlowId(e.target.value)} autoFocus>
              {published.map((flow) => (
                <option key={flow.id} value={flow.id}>
                  {flow.name} (v{flow.published_version})
                </option>
              ))}
            </select>
            <p className="hint">Its published version answers new calls at once; calls under way go on with theirs.</p>
          </>
        )}
        <FormProblem error={error} />
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={pending || flowId === ""}>
            {pending ? "Deploying…" : "Deploy"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
