import { messageOf } from "../api/client";
import { LIVE_EVERY_MS } from "./useLive";

/** When the live data was last refreshed, or why the latest refresh failed. */
export function LiveStatus({ updatedAt, stale }: { updatedAt: Date | null; stale: unknown }) {
  if (stale !== null) {
    return (
      <p className="live-status live-status-stale" role="alert">
        Not updating: {messageOf(stale)} Trying again every {LIVE_EVERY_MS / 1000} s.
      </p>
    );
  }
  if (!updatedAt) return null;
  return (
    <p className="live-status" data-testid="live-status">
      <span className="live-dot" aria-hidden="true" />
      Live: refreshed every {LIVE_EVERY_MS / 1000} s while this page is open, last at{" "}
      {updatedAt.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" })}
    </p>
  );
}
