import { useState } from "react";

import { api, call, type Schemas } from "../../api/client";
import { useResource } from "../../api/useResource";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { EmptyState } from "../../components/EmptyState";
import { ErrorState } from "../../components/ErrorState";
import { LoadingState } from "../../components/LoadingState";
import { Drawer } from "./Drawer";
import { when } from "./format";
import { VersionCompare } from "./VersionCompare";
import { VersionStatus } from "./VersionStatus";

type Summary = Schemas["VersionSummary"];
interface Listed extends Summary {
  /** A draft's errors and warnings; published and archived versions have none. */
  problems: Schemas["DraftProblem"][];
}

function problemCount(problems: Schemas["DraftProblem"][]): string {
  if (problems.length === 0) return "0";
  const errors = problems.filter((p) => p.severity === "error").length;
  const warnings = problems.length - errors;
  const parts = [];
  if (errors) parts.push(`${errors} error${errors === 1 ? "" : "s"}`);
  if (warnings) parts.push(`${warnings} warning${warnings === 1 ? "" : "s"}`);
  return parts.join(", ");
}

/** The flow's versions, newest first, each draft with its problem count. */
async function loadVersions(flowId: string): Promise<Listed[]> {
  const versions = await call(api.GET("/api/flows/{flow_id}/versions", { params: { path: { flow_id: flowId } } }));
  const newestFirst = [...versions].sort((a, b) => b.number - a.number);
  return Promise.all(
    newestFirst.map(async (summary) => {
      if (summary.status !== "draft") return { ...summary, problems: [] };
      const full = await call(
        api.GET("/api/flows/{flow_id}/versions/{number}", { params: { path: { flow_id: flowId, number: summary.number } } }),
      );
      return { ...summary, problems: full.problems ?? [] };
    }),
  );
}

interface VersionsDrawerProps {
  flow: Schemas["FlowDetail"];
  open: Schemas["VersionOut"] | null;
  canEdit: boolean;
  dirty: boolean;
  onVersion: (version: Schemas["VersionOut"]) => void;
  onRolledBack: (restored: Schemas["VersionOut"], from: number) => void;
  onClose: () => void;
}

/** Version history: open one in the editor, compare two side by side, roll back to an older one. */
export function VersionsDrawer({ flow, open, canEdit, dirty, onVersion, onRolledBack, onClose }: VersionsDrawerProps) {
  const versions = useResource(() => loadVersions(flow.id), [flow.id, flow.published_version, open?.number]);
  const [opening, setOpening] = useState<number | null>(null);
  const [openError, setOpenError] = useState<unknown>(null);
  const [rollingBack, setRollingBack] = useState<Listed | null>(null);

  async function openVersion(number: number) {
    setOpening(number);
    setOpenError(null);
    try {
      const version = await call(
        api.GET("/api/flows/{flow_id}/versions/{number}", { params: { path: { flow_id: flow.id, number } } }),
      );
      onVersion(version);
    } catch (error) {
      setOpenError(error);
    } finally {
      setOpening(null);
    }
  }

  let body;
  if (versions.resource.status === "loading") body = <LoadingState label="Loading versions…" />;
  else if (versions.resource.status === "error")
    body = <ErrorState title="The versions could not be loaded" error={versions.resource.error} onRetry={versions.retry} />;
  else if (versions.resource.data.length === 0)
    body = (
      <EmptyState title="No versions yet">
        <p>The first version is saved as soon as a step is drawn on the canvas.</p>
      </EmptyState>
    );
  else {
    const listed = versions.resource.data;
    body = (
      <>
        {openError !== null && <ErrorState title="That version could not be opened" error={openError} />}
        <div className="table-frame">
          <table className="versions-table">
            <caption className="visually-hidden">Versions of {flow.name}, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
                <th scope="col">By</th>
                <th scope="col" className="col-number">
                  Problems
                </th>
                <th scope="col" className="col-actions">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {listed.map((v) => {
                const isOpen = open?.number === v.number;
                return (
                  <tr key={v.number} className={isOpen ? "version-open" : undefined} data-version={v.number}>
                    <th scope="row">
                      v{v.number}
                      {isOpen && <span className="version-open-tag">open</span>}
                      {v.rolled_back_from !== null ? (
                        <span className="version-notes">rolled back from v{v.rolled_back_from}</span>
                      ) : (
                        v.change_notes && <span className="version-notes">{v.change_notes}</span>
                      )}
                    </th>
                    <td>
                      <VersionStatus status={v.status} />
                    </td>
                    <td>{when(v.created_at)}</td>
                    <td>{v.created_by ?? <span className="muted">unknown</span>}</td>
                    <td className="col-number" title={v.problems.map((p) => `${p.path}: ${p.message}`).join("\n") || undefined}>
                      {problemCount(v.problems)}
                    </td>
                    <td className="col-actions">
                      {!isOpen && (
                        <button
                          type="button"
                          className="button-quiet"
                          onClick={() => void openVersion(v.number)}
                          disabled={opening !== null || dirty}
                          title={dirty ? "Wait for your changes to be saved" : undefined}
                          aria-label={`Open v${v.number} in the editor`}
                        >
                          {opening === v.number ? "Opening…" : "Open"}
                        </button>
                      )}
                      {canEdit && v.status === "archived" && (
                        <button
                          type="button"
                          className="button-quiet button-quiet-danger"
                          onClick={() => setRollingBack(v)}
                          aria-label={`Roll back to v${v.number}`}
                        >
                          Roll back
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
        {listed.length > 1 ? (
          <VersionCompare key={listed.length} flowId={flow.id} numbers={listed.map((v) => v.number)} />
        ) : (
          <p className="hint">With a second version you can compare the two here.</p>
        )}
      </>
    );
  }

  return (
    <Drawer title="Versions" onClose={onClose} wide>
      <p className="hint">
        {flow.published_version === null
          ? "Nothing is published yet: new runs start only once a version is published."
          : `New runs use v${flow.published_version}; runs under way keep the version they started on.`}
      </p>
      {body}
      {rollingBack && (
        <ConfirmDialog
          title={`Roll back to v${rollingBack.number}?`}
          confirmLabel={`Roll back to v${rollingBack.number}`}
          onClose={() => setRollingBack(null)}
          onConfirm={async () => {
            const restored = await call(
              api.POST("/api/flows/{flow_id}/rollback", {
                params: { path: { flow_id: flow.id } },
                body: { version: rollingBack.number },
              }),
            );
            setRollingBack(null);
            versions.reload();
            onRolledBack(restored, rollingBack.number);
          }}
        >
          <p>
            A copy of v{rollingBack.number} is published as a new version
            {flow.published_version !== null && `, and v${flow.published_version} is archived`}. New runs use it at once;
            runs under way keep their version.
          </p>
        </ConfirmDialog>
      )}
    </Drawer>
  );
}
