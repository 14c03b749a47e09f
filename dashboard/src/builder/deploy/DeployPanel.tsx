import { useState, type FormEvent } from "react";
import { Link } from "react-router";

import { ApiProblem, api, call, messageOf, type Schemas } from "../../api/client";
import { useResource } from "../../api/useResource";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { EmptyState } from "../../components/EmptyState";
import { ErrorState } from "../../components/ErrorState";
import { LoadingState } from "../../components/LoadingState";
import { ProblemDetails } from "../../components/ProblemDetails";
import { Drawer } from "../versions/Drawer";
import { DeploymentList } from "./DeploymentList";
import { ScheduleFields } from "./ScheduleFields";

type Environment = "production" | "staging";
const OFFICE_HOURS: Schemas["BusinessHours"] = { start: "09:00", end: "17:00", timezone: "UTC", days: ["mon", "tue", "wed", "thu", "fri"] };

interface DeployPanelProps {
  flow: Schemas["FlowDetail"];
  canEdit: boolean;
  onDone: (text: string) => void;
  onClose: () => void;
}

interface Loaded {
  numbers: Schemas["PhoneNumberOut"][];
  flows: Schemas["FlowOut"][];
  campaigns: Schemas["CampaignOut"][];
}

/** Deploy the flow to phone numbers in an environment (version, schedule, fallback flow), and
 * see where it answers now. */
export function DeployPanel({ flow, canEdit, onDone, onClose }: DeployPanelProps) {
  const loaded = useResource(
    async (): Promise<Loaded> => {
      const [numbers, flows, campaigns] = await Promise.all([
        call(api.GET("/api/phone-numbers")),
        call(api.GET("/api/flows")),
        call(api.GET("/api/campaigns")),
      ]);
      return { numbers, flows, campaigns };
    },
    [],
  );
  const deployments = useResource(
    () => call(api.GET("/api/flows/{flow_id}/deployments", { params: { path: { flow_id: flow.id } } })),
    [flow.id],
  );
  const [stopping, setStopping] = useState<Schemas["DeploymentOut"] | null>(null);
  const flowNames = new Map(loaded.resource.status === "ready" ? loaded.resource.data.flows.map((f) => [f.id, f.name]) : []);

  return (
    <Drawer title={canEdit ? "Deploy" : "Deployments"} onClose={onClose} wide>
      {canEdit &&
        (loaded.resource.status === "loading" ? (
          <LoadingState label="Loading phone numbers…" />
        ) : loaded.resource.status === "error" ? (
          <ErrorState title="The phone numbers could not be loaded" error={loaded.resource.error} onRetry={loaded.retry} />
        ) : (
          <DeployForm
            flow={flow}
            {...loaded.resource.data}
            onRefused={loaded.reload}
            onDeployed={(text) => {
              deployments.reload();
              loaded.reload();
              onDone(text);
            }}
          />
        ))}
      {deployments.resource.status === "loading" && <LoadingState label="Loading deployments…" />}
      {deployments.resource.status === "error" && (
        <ErrorState title="The deployments could not be loaded" error={deployments.resource.error} onRetry={deployments.retry} />
      )}
      {deployments.resource.status === "ready" && (
        <DeploymentList
          deployments={deployments.resource.data}
          flowNames={flowNames}
          onStop={canEdit ? setStopping : undefined}
        />
      )}
      {stopping && (
        <ConfirmDialog
          title={`Stop ${stopping.number} answering with "${flow.name}"?`}
          confirmLabel="Stop answering"
          onClose={() => setStopping(null)}
          onConfirm={async () => {
            await call(
              api.DELETE("/api/phone-numbers/{phone_number_id}/deployments/{environment}", {
                params: { path: { phone_number_id: stopping.phone_number_id, environment: stopping.environment as "production" | "staging" } },
              }),
            );
            setStopping(null);
            deployments.reload();
            loaded.reload();
            onDone(`${stopping.number} no longer answers with "${flow.name}" in ${stopping.environment}.`);
          }}
        >
          <p>
            New calls to {stopping.number} in {stopping.environment} are no longer answered by this flow (nor its fallback).
            Calls under way go on; the deployment stays in the history.
          </p>
        </ConfirmDialog>
      )}
    </Drawer>
  );
}

interface DeployFormProps extends Loaded {
  flow: Schemas["FlowDetail"];
  onDeployed: (text: string) => void;
  /** The API said no: the numbers may have changed meanwhile, so they are asked for again. */
  onRefused: () => void;
}

function DeployForm({ flow, numbers, flows, campaigns, onDeployed, onRefused }: DeployFormProps) {
  const deployable = flow.versions.filter((v) => v.status !== "draft").sort((a, b) => b.number - a.number);
  const [checked, setPicked] = useState<string[]>([]);
  // Only numbers still listed count: one removed meanwhile leaves the list when it is reloaded.
  const picked = checked.filter((number) => numbers.some((n) => n.number === number));
  const [environment, setEnvironment] = useState<Environment>("production");
  const [version, setVersion] = useState<number | null>(flow.published_version ?? deployable[0]?.number ?? null);
  const [scheduled, setScheduled] = useState(false);
  const [hours, setHours] = useState(OFFICE_HOURS);
  const [fallback, setFallback] = useState("");
  const [campaign, setCampaign] = useState("");
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const names = new Map(flows.map((f) => [f.id, f.name]));
  const fallbacks = flows.filter((f) => f.id !== flow.id && f.published_version !== null);

  if (numbers.length === 0) {
    return (
      <EmptyState title="No phone numbers yet">
        <p>
          Add a number on the <Link to="/calls">Calls page</Link>, then deploy this flow to it here.
        </p>
      </EmptyState>
    );
  }
  if (deployable.length === 0) {
    return (
      <EmptyState title="Nothing to deploy yet">
        <p>Publish a version first: phone numbers answer with published versions only.</p>
      </EmptyState>
    );
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setPending(true);
    setError(null);
    const body: Schemas["DeployBody"] = { phone_numbers: picked, environment };
    if (version !== null) body.version = version;
    if (scheduled) body.schedule = hours;
    if (fallback) body.fallback_flow_id = fallback;
    if (campaign) body.campaign_id = campaign;
    try {
      const out = await call(api.POST("/api/flows/{flow_id}/deploy", { params: { path: { flow_id: flow.id } }, body }));
      const first = out.deployments[0];
      setPicked([]);
      onDeployed(`Deployed v${first?.version ?? version} to ${picked.join(", ")} in ${environment}.`);
    } catch (problem) {
      setError(problem);
      onRefused();
    } finally {
      setPending(false);
    }
  }

  return (
    <form className="form deploy-form" onSubmit={submit} aria-label="Deploy to phone numbers">
      <fieldset className="deploy-numbers">
        <legend>Phone numbers</legend>
        {numbers.map((n) => {
          const now = n.deployments[environment];
          return (
            <label key={n.id} className="deploy-number">
              <input
                type="checkbox"
                checked={picked.includes(n.number)}
                onChange={(e) => setPicked(e.target.checked ? [...picked, n.number] : picked.filter((x) => x !== n.number))}
              />
              <span className="deploy-number-text">
                {n.number}
                {n.label && <span className="muted"> {n.label}</span>}
              </span>
              <span className="muted deploy-number-now">
                {now ? `${environment}: ${names.get(now.flow_id) ?? now.flow_id} v${now.version}` : `nothing in ${environment}`}
              </span>
            </label>
          );
        })}
      </fieldset>
      <div className="deploy-row">
        <div className="field">
          <label htmlFor="deploy-environment">Environment</label>
          <select id="deploy-environment" value={environment} onChange={(e) => setEnvironment(e.target.value as Environment)}>
            <option value="production">production</option>
            <option value="staging">staging</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="deploy-version">Version</label>
          <select id="deploy-version" value={version ?? ""} onChange={(e) => setVersion(Number(e.target.value))}>
            {deployable.map((v) => (
              <option key={v.number} value={v.number}>
                v{v.number} ({v.status})
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="deploy-fallback">Fallback flow</label>
          <select id="deploy-fallback" value={fallback} onChange={(e) => setFallback(e.target.value)}>
            <option value="">none</option>
            {fallbacks.map((f) => (
              <option key={f.id} value={f.id}>
                {f.name}
              </option>
            ))}
          </select>
        </div>
        {campaigns.length > 0 && (
          <div className="field">
            <label htmlFor="deploy-campaign">Campaign</label>
            <select id="deploy-campaign" value={campaign} onChange={(e) => setCampaign(e.target.value)}>
              <option value="">none</option>
              {campaigns.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </select>
          </div>
        )}
      </div>
      <label className="inline-check">
        <input type="checkbox" checked={scheduled} onChange={(e) => setScheduled(e.target.checked)} /> Answer only on a
        schedule (outside it, calls go to the fallback flow)
      </label>
      {scheduled && <ScheduleFields value={hours} onChange={setHours} />}
      {error !== null && (
        <div className="form-error" role="alert">
          Deploy failed: {messageOf(error)}
          {error instanceof ApiProblem && <ProblemDetails details={error.details} />}
        </div>
      )}
      <div className="dialog-actions">
        <button type="submit" className="button button-primary" disabled={pending || picked.length === 0 || version === null}>
          {pending ? "Deploying…" : picked.length > 1 ? `Deploy to ${picked.length} numbers` : "Deploy"}
        </button>
      </div>
    </form>
  );
}
