import type { Resource } from "../api/useResource";
import type { FlowDefinition, StepInfo } from "../canvas";
import { ErrorState } from "../components/ErrorState";
import { LoadingState } from "../components/LoadingState";
import { ExecutionPath } from "./ExecutionPath";
import type { ExecutionStep } from "./format";

interface ExecutionPathSectionProps {
  version: number;
  definition: Resource<FlowDefinition>;
  onRetryDefinition: () => void;
  catalogue: Resource<StepInfo[]>;
  onRetryCatalogue: () => void;
  steps: ExecutionStep[];
  selected: string | null;
  onSelect: (nodeId: string) => void;
}

/** The path section: once the pinned version and the step catalogue are in, the flow drawn
 * with the run on it. */
export function ExecutionPathSection(props: ExecutionPathSectionProps) {
  const { version, definition, catalogue } = props;
  return (
    <section className="execution-section" aria-labelledby="path-title">
      <h2 id="path-title">Path on version {version}</h2>
      {(definition.status === "loading" || catalogue.status === "loading") && <LoadingState label="Drawing the flow…" />}
      {definition.status === "error" && (
        <ErrorState title={`Version ${version} of the flow could not be loaded`} error={definition.error} onRetry={props.onRetryDefinition} />
      )}
      {catalogue.status === "error" && <ErrorState title="The step catalogue could not be loaded" error={catalogue.error} onRetry={props.onRetryCatalogue} />}
      {definition.status === "ready" && catalogue.status === "ready" && (
        <ExecutionPath definition={definition.data} catalogue={catalogue.data} steps={props.steps} selected={props.selected} onSelect={props.onSelect} />
      )}
    </section>
  );
}
