import type { Flow } from "../api/client";

/** Draft (nothing published yet) or the version that runs. */
export function FlowStatus({ flow }: { flow: Flow }) {
  if (flow.published_version === null) {
    return <span className="status-badge status-draft">Draft</span>;
  }
  return <span className="status-badge status-published">Published v{flow.published_version}</span>;
}
