import "./builder.css";

import { ReactFlowProvider } from "@xyflow/react";
import { useParams } from "react-router";

import { api, call, type Schemas } from "../api/client";
import { useResource } from "../api/useResource";
import { useSteps } from "../canvas/useSteps";
import { ErrorState } from "../components/ErrorState";
import { LoadingState } from "../components/LoadingState";
import { canEditFlows } from "../session/roles";
import { useSession } from "../session/SessionProvider";
import { Builder } from "./Builder";

type Flow = Schemas["FlowDetail"];

/** The version the builder opens: the latest draft, else the published one, else the latest. */
export function versionToOpen(flow: Flow): number | null {
  const drafts = flow.versions.filter((version) => version.status === "draft").map((version) => version.number);
  if (drafts.length > 0) return Math.max(...drafts);
  if (flow.published_version !== null) return flow.published_version;
  const numbers = flow.versions.map((version) => version.number);
  return numbers.length > 0 ? Math.max(...numbers) : null;
}

async function loadFlow(flowId: string): Promise<{ flow: Flow; version: Schemas["VersionOut"] | null }> {
  const flow = await call(api.GET("/api/flows/{flow_id}", { params: { path: { flow_id: flowId } } }));
  const number = versionToOpen(flow);
  const version =
    number === null ? null : await call(api.GET("/api/flows/{flow_id}/versions/{number}", { params: { path: { flow_id: flowId, number } } }));
  return { flow, version };
}

/** /flows/:flowId — the flow builder, once the flow, its version and the step catalogue are in. */
export function BuilderPage() {
  const { flowId = "" } = useParams();
  const { session } = useSession();
  const opened = useResource(() => loadFlow(flowId), [flowId]);
  const steps = useSteps();

  if (opened.resource.status === "error") return <ErrorState title="This flow could not be loaded" error={opened.resource.error} onRetry={opened.retry} page />;
  if (steps.resource.status === "error") return <ErrorState title="The step catalogue could not be loaded" error={steps.resource.error} onRetry={steps.retry} page />;
  if (opened.resource.status === "loading" || steps.resource.status === "loading") return <LoadingState label="Loading the flow…" page />;

  return (
    <ReactFlowProvider>
      <Builder
        key={flowId}
        initialFlow={opened.resource.data.flow}
        initial={opened.resource.data.version}
        steps={steps.resource.data}
        canEdit={canEditFlows(session.role)}
      />
    </ReactFlowProvider>
  );
}
