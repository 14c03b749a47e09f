import { useMemo, useState } from "react";

import { api, call, type Flow, type Schemas } from "../api/client";
import { useResource } from "../api/useResource";
import { ActionMessage, type Outcome } from "../components/ActionMessage";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { canEditFlows } from "../session/roles";
import { useSession } from "../session/SessionProvider";
import { duplicateFlow, fileName, flowFile, importFlowFile, saveJson } from "./flowFiles";
import { FlowLists } from "./FlowLists";
import { ImportFlowButton } from "./ImportFlowButton";
import { NewFlowDialog } from "./NewFlowDialog";
import { figuresByFlow, sevenDaysAgo, type FiguresState } from "./runFigures";

function summary(detail: Schemas["FlowDetail"]): Flow {
  const { versions: _versions, ...flow } = detail;
  return flow;
}

/** Lead flows first, in the order given (priorities 1..n, as the API will number them). */
function reordered(flows: Flow[], order: string[]): Flow[] {
  const byId = new Map(flows.map((flow) => [flow.id, flow]));
  const lead = order.map((id, index) => ({ ...byId.get(id)!, priority: index + 1 }));
  return [...lead, ...flows.filter((flow) => !order.includes(flow.id))];
}

/** The tenant's flows: what starts each, whether it is on, how last week went, and the
 * lead flows' priorities; create, import, export, duplicate and delete. */
export function FlowsPage() {
  const { session } = useSession();
  const canEdit = canEditFlows(session.role);
  const flows = useResource(() => call(api.GET("/api/flows")), []);
  const since = useMemo(() => sevenDaysAgo(), []);
  const overview = useResource(
    () => call(api.GET("/api/analytics/overview", { params: { query: { since } } })),
    [since],
  );
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [pending, setPending] = useState<ReadonlySet<string>>(new Set());
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<Flow | null>(null);

  const figures: FiguresState = useMemo(
    () =>
      overview.resource.status === "ready"
        ? { status: "ready", byFlow: figuresByFlow(overview.resource.data) }
        : { status: overview.resource.status },
    [overview.resource],
  );

  /** Runs a change to one flow, marking it busy and saying how it went. */
  async function act(flow: Flow | null, action: string, change: () => Promise<string>) {
    if (flow) setPending((ids) => new Set(ids).add(flow.id));
    try {
      setOutcome({ kind: "done", text: await change() });
    } catch (error) {
      setOutcome({ kind: "failed", action, error });
    } finally {
      if (flow)
        setPending((ids) => {
          const rest = new Set(ids);
          rest.delete(flow.id);
          return rest;
        });
    }
  }

  const current = flows.resource.status === "ready" ? flows.resource.data : [];
  const replaceFlow = (changed: Flow) => flows.replace(current.map((f) => (f.id === changed.id ? changed : f)));

  const actions = {
    onToggle: (flow: Flow, enabled: boolean) =>
      act(flow, enabled ? "Enabling" : "Disabling", async () => {
        const detail = await call(
          api.PATCH("/api/flows/{flow_id}", { params: { path: { flow_id: flow.id } }, body: { enabled } }),
        );
        replaceFlow(summary(detail));
        return `"${flow.name}" is ${enabled ? "enabled" : "disabled"}.`;
      }),
    onExport: (flow: Flow) =>
      act(flow, "Export", async () => {
        const { file, version } = await flowFile(flow);
        saveJson(fileName(flow), file);
        return version === null
          ? `Exported "${flow.name}" (settings only: it has no version yet).`
          : `Exported "${flow.name}" with version ${version}.`;
      }),
    onDuplicate: (flow: Flow) =>
      act(flow, "Duplicate", async () => {
        const copy = await duplicateFlow(flow);
        flows.reload();
        return `Created "${copy.name}", disabled until you turn it on.`;
      }),
    onDelete: (flow: Flow) => setDeleting(flow),
  };

  function reorder(order: string[], moved: Flow) {
    const before = current;
    flows.replace(reordered(current, order));
    void act(null, "Reordering", async () => {
      try {
        flows.replace(await call(api.PUT("/api/flows/priorities", { body: { order } })));
      } catch (error) {
        flows.replace(before);
        throw error;
      }
      return `"${moved.name}" is now priority ${order.indexOf(moved.id) + 1} of ${order.length}.`;
    });
  }

  function importFile(file: File) {
    void act(null, `Importing ${file.name}`, async () => {
      const created = await importFlowFile(await file.text());
      flows.reload();
      return `Imported "${created.name}" from ${file.name}.`;
    });
  }

  return (
    <section aria-labelledby="page-title" className="flows-page">
      <header className="page-header">
        <h1 id="page-title">Flows</h1>
        {canEdit && (
          <div className="page-actions">
            <ImportFlowButton onFile={importFile} />
            <button type="button" className="button button-primary" onClick={() => setCreating(true)}>
              New flow
            </button>
          </div>
        )}
      </header>
      <ActionMessage outcome={outcome} onDismiss={() => setOutcome(null)} />
      <FlowLists
        flows={flows.resource}
        onRetry={flows.retry}
        onCreate={() => setCreating(true)}
        figures={figures}
        figuresError={overview.resource.status === "error" ? overview.resource.error : null}
        onRetryFigures={overview.retry}
        canEdit={canEdit}
        pending={pending}
        actions={actions}
        onReorder={reorder}
      />
      {creating && (
        <NewFlowDialog
          onClose={() => setCreating(false)}
          onCreated={(created) => {
            setCreating(false);
            // Listed at once (the reload brings the API's order), and one click from its steps.
            flows.replace([...current, summary(created)]);
            flows.reload();
            setOutcome({
              kind: "done",
              text: `Created "${created.name}" as a draft.`,
              link: { to: `/flows/${created.id}`, label: "Open it in the builder to draw its steps" },
            });
          }}
        />
      )}
      {deleting && (
        <ConfirmDialog
          title={`Delete "${deleting.name}"?`}
          confirmLabel="Delete flow"
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            await call(api.DELETE("/api/flows/{flow_id}", { params: { path: { flow_id: deleting.id } } }));
            setDeleting(null);
            flows.replace(current.filter((flow) => flow.id !== deleting.id));
            setOutcome({ kind: "done", text: `Deleted "${deleting.name}".` });
          }}
        >
          <p>
            It stops triggering at once and leaves this list. Its past executions stay, and runs under way go on.
            This cannot be undone here.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}
