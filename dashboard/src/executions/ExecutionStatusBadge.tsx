import { statusLabel } from "./format";

/** An execution's or a step's status as a coloured badge. */
export function ExecutionStatusBadge({ status }: { status: string }) {
  return <span className={`status-badge run-status run-${status}`}>{statusLabel(status)}</span>;
}
