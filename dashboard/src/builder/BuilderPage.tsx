import { useParams } from "react-router";

import { api, call } from "../api/client";
import { useResource } from "../api/useResource";
import { FlowDiagram } from "../canvas/FlowDiagram";
import { asDefinition } from "../canvas/types";
import { useSteps } from "../canvas/useSteps";
import { ErrorState } from "../components/ErrorState";
import { LoadingState } from "../components/LoadingState";

/** The flow builder (first cut: the current version drawn read-only). */
export function BuilderPage() {
  const { flowId = "" } = useParams();
  const flow = useResource(() => call(api.GET("/api/flows/{flow_id}", { params: { path: { flow_id: flowId } } })), [flowId]);
  const steps = useSteps();
  const latest = flow.resource.status === "ready" ? flow.resource.data.versions.at(-1)?.number ?? null : null;
  const version = useResource(
    () =>
      latest === null
        ? Promise.resolve(null)
        : call(api.GET("/api/flows/{flow_id}/versions/{number}", { params: { path: { flow_id: flowId, number: latest } } })),
    [flowId, latest],
  );
  if (flow.resource.status === "loading" || steps.resource.status === "loading" || version.resource.status === "loading")
    return <LoadingState label="Loading the flow…" page />;
  if (flow.resource.status === "error") return <ErrorState title="The flow could not be loaded" error={flow.resource.error} onRetry={flow.retry} page />;
  if (steps.resource.status === "error") return <ErrorState title="The steps could not be loaded" error={steps.resource.error} onRetry={steps.retry} page />;
  if (version.resource.status === "error") return <ErrorState title="The version could not be loaded" error={version.resource.error} onRetry={version.retry} page />;
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">{flow.resource.data.name}</h1>
      <FlowDiagram definition={asDefinition(version.resource.data?.definition)} steps={steps.resource.data} height={600} />
    </section>
  );
}
