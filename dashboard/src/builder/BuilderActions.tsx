import type { JSX } from "react";

import type { Schemas } from "../api/client";
import type { DiagramOverlay } from "../canvas/overlay";

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

/** The builder toolbar's actions: versions and diff, publish, rollback, deploy, test mode. */
export function BuilderActions(_props: BuilderActionsProps): JSX.Element {
  return <></>;
}
