import { useLayoutEffect, useRef, useState, type JSX } from "react";

import type { Schemas } from "../api/client";
import type { DiagramOverlay } from "../canvas/overlay";
import { ActionMessage, type Outcome } from "../components/ActionMessage";
import { DeployPanel } from "./deploy/DeployPanel";
import { TestPanel } from "./testmode/TestPanel";
import { DrawerPlacement } from "./versions/Drawer";
import { publishDraft } from "./versions/publish";
import { useAfterSave } from "./versions/useAfterSave";
import { VersionsDrawer } from "./versions/VersionsDrawer";
import "./versions/builder-actions.css";

export interface BuilderActionsProps {
  flow: Schemas["FlowDetail"];
  version: Schemas["VersionOut"] | null;
  definition: unknown;
  dirty: boolean;
  canEdit: boolean;
  onOverlay: (overlay: DiagramOverlay | null) => void;
  onVersion: (version: Schemas["VersionOut"]) => void;
  onFlowChanged: () => void;
}

type Panel = "versions" | "test" | "deploy" | null;

/** The builder toolbar's actions: version history with diff and rollback, publish, deploy and
 * test mode, each in its own panel; what they did is said in a message under the toolbar. */
export function BuilderActions(props: BuilderActionsProps): JSX.Element {
  const { flow, version, definition, dirty, canEdit, onOverlay, onVersion, onFlowChanged } = props;
  const [panel, setPanel] = useState<Panel>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [publishing, setPublishing] = useState(false);
  const { whenSaved, waitingFor, cancel } = useAfterSave(dirty);
  // Actions held back until a save run with the version as it is then, not as it was.
  const latest = useRef(version);
  latest.current = version;
  const root = useRef<HTMLDivElement>(null);
  const [drawerTop, setDrawerTop] = useState(56);

  // Drawers open just below the toolbar, wherever the page puts it.
  useLayoutEffect(() => {
    if (panel === null) return;
    const place = () => setDrawerTop(Math.max(56, Math.round((root.current?.getBoundingClientRect().bottom ?? 48) + 8)));
    place();
    window.addEventListener("resize", place);
    window.addEventListener("scroll", place, true);
    return () => {
      window.removeEventListener("resize", place);
      window.removeEventListener("scroll", place, true);
    };
  }, [panel]);

  function toggle(next: Panel) {
    if (panel === "test") onOverlay(null);
    setOutcome(null);
    setPanel(panel === next ? null : next);
  }

  function changed(next: Schemas["VersionOut"]) {
    onVersion(next);
    onFlowChanged();
  }

  async function publish() {
    const draft = latest.current;
    if (!draft) return;
    setPublishing(true);
    setOutcome(null);
    try {
      const published = await publishDraft(flow.id, draft);
      changed(published);
      setOutcome({
        kind: "done",
        text: `Published v${published.number}: new runs use it from now on.`,
        link: { to: `/executions?flow=${encodeURIComponent(flow.id)}`, label: "Watch its runs" },
      });
    } catch (error) {
      setOutcome({ kind: "failed", action: `Publishing v${draft.number}`, error });
    } finally {
      setPublishing(false);
    }
  }

  const message = (
    <>
      {waitingFor === "publishing" && (
        <div className="action-message" role="status">
          <span>Saving your changes, then publishing…</span>
          <button type="button" className="button-quiet" onClick={cancel}>
            Don't publish
          </button>
        </div>
      )}
      <ActionMessage outcome={outcome} onDismiss={() => setOutcome(null)} />
    </>
  );
  const draftOpen = version?.status === "draft";
  const publishTitle = !version
    ? "Draw a step first: there is no version yet"
    : draftOpen
      ? `Publish v${version.number}: new runs use it`
      : `v${version.number} is ${version.status}; edit it to make a new draft`;

  return (
    <div className="builder-actions" ref={root}>
      <div className="builder-actions-buttons" role="group" aria-label="Flow actions">
        <button type="button" className="button" aria-pressed={panel === "versions"} onClick={() => toggle("versions")}>
          Versions
        </button>
        {canEdit && (
          <button type="button" className="button" aria-pressed={panel === "test"} onClick={() => toggle("test")}>
            Test
          </button>
        )}
        <button type="button" className="button" aria-pressed={panel === "deploy"} onClick={() => toggle("deploy")}>
          {canEdit ? "Deploy" : "Deployments"}
        </button>
        {canEdit && (
          <button
            type="button"
            className="button button-primary"
            title={publishTitle}
            disabled={!draftOpen || publishing || waitingFor !== null}
            onClick={() => whenSaved("publishing", () => void publish())}
          >
            {publishing ? "Publishing…" : "Publish"}
          </button>
        )}
      </div>
      {panel === null && <div className="builder-actions-message">{message}</div>}
      <DrawerPlacement.Provider value={{ top: drawerTop, notice: message }}>
        {panel === "versions" && (
          <VersionsDrawer
            flow={flow}
            open={version}
            canEdit={canEdit}
            dirty={dirty}
            onVersion={onVersion}
            onRolledBack={(restored, from) => {
              changed(restored);
              setOutcome({ kind: "done", text: `Rolled back: v${from}'s steps are published again as v${restored.number}.` });
            }}
            onClose={() => setPanel(null)}
          />
        )}
        {panel === "test" && (
          <TestPanel
            flow={flow}
            version={version}
            definition={definition}
            dirty={dirty}
            latest={() => latest.current}
            whenSaved={whenSaved}
            waitingFor={waitingFor}
            onOverlay={onOverlay}
            onClose={() => setPanel(null)}
          />
        )}
        {panel === "deploy" && (
          <DeployPanel
            flow={flow}
            canEdit={canEdit}
            onDone={(text) => {
              setOutcome({ kind: "done", text });
              onFlowChanged();
            }}
            onClose={() => setPanel(null)}
          />
        )}
      </DrawerPlacement.Provider>
    </div>
  );
}
