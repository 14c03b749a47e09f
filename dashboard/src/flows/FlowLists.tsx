import type { Flow } from "../api/client";
import type { Resource } from "../api/useResource";
import { EmptyState } from "../components/EmptyState";
import { ErrorState } from "../components/ErrorState";
import { LoadingState } from "../components/LoadingState";
import type { FlowRowActions } from "./FlowRow";
import { FlowTable } from "./FlowTable";
import type { FiguresState } from "./runFigures";
import { isLeadFlow } from "./triggers";

interface FlowListsProps {
  flows: Resource<Flow[]>;
  onRetry: () => void;
  onCreate: () => void;
  figures: FiguresState;
  figuresError: unknown;
  onRetryFigures: () => void;
  canEdit: boolean;
  pending: ReadonlySet<string>;
  actions: FlowRowActions;
  onReorder: (order: string[], moved: Flow) => void;
}

/** The lead flows in priority order, then every other flow; or why there is nothing to show. */
export function FlowLists({ flows, onRetry, onCreate, figures, figuresError, onRetryFigures, canEdit, pending, actions, onReorder }: FlowListsProps) {
  if (flows.status === "loading") return <LoadingState label="Loading flows…" />;
  if (flows.status === "error") return <ErrorState title="The flows could not be loaded" error={flows.error} onRetry={onRetry} />;
  if (flows.data.length === 0) {
    return (
      <EmptyState title="No flows yet">
        {canEdit ? (
          <p>
            <button type="button" className="button-link" onClick={onCreate}>
              Create a flow
            </button>
            , or import a flow file such as <code>examples/lead_engagement.json</code> with Import JSON.
          </p>
        ) : (
          <p>A manager or an admin creates flows; they will be listed here.</p>
        )}
      </EmptyState>
    );
  }

  const lead = flows.data.filter((flow) => isLeadFlow(flow.trigger));
  const others = flows.data.filter((flow) => !isLeadFlow(flow.trigger));
  return (
    <>
      {figuresError !== null && <ErrorState title="Last week's run figures are unavailable" error={figuresError} onRetry={onRetryFigures} />}
      {lead.length > 0 && (
        <section aria-labelledby="lead-flows-title" className="flow-section">
          <h2 id="lead-flows-title">Lead flows</h2>
          <p className="hint" id="lead-flows-hint">
            Each new lead starts the first enabled flow, from the top, whose conditions match.
            {canEdit && " Drag ⠿ to change the order, or focus it and press ↑ or ↓."}
          </p>
          <FlowTable label="Lead flows, by priority" flows={lead} figures={figures} canEdit={canEdit} pending={pending} onReorder={onReorder} {...actions} />
        </section>
      )}
      {others.length > 0 && (
        <section aria-labelledby="other-flows-title" className="flow-section">
          <h2 id="other-flows-title">{lead.length > 0 ? "Other flows" : "All flows"}</h2>
          <FlowTable label={lead.length > 0 ? "Other flows" : "All flows"} flows={others} figures={figures} canEdit={canEdit} pending={pending} {...actions} />
        </section>
      )}
    </>
  );
}
