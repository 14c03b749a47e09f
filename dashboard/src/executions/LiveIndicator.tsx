import type { StreamState } from "./useEventStream";

const TEXT: Record<StreamState, string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  closed: "Not updating",
};

const TITLE: Record<StreamState, string> = {
  connecting: "Opening the live event stream.",
  live: "Changes appear here as they happen.",
  reconnecting: "The live stream dropped; trying again every few seconds. What changes meanwhile arrives when it is back.",
  closed: "The live stream was refused: what is shown may be out of date. Reconnect, or reload the page.",
};

/** Whether the page is following the event stream, and a way back when it gave up. */
export function LiveIndicator({ state, onReconnect }: { state: StreamState; onReconnect: () => void }) {
  return (
    <span className={`live-indicator live-${state}`} role="status" aria-live="polite" title={TITLE[state]} data-testid="live-indicator">
      <span className="live-dot" aria-hidden="true" />
      <span>{TEXT[state]}</span>
      {state === "reconnecting" && <span className="live-note">stream dropped, retrying; nothing is missed</span>}
      {state === "closed" && <span className="live-note">what is shown may be out of date</span>}
      {state === "closed" && (
        <button type="button" className="button-quiet" onClick={onReconnect}>
          Reconnect
        </button>
      )}
    </span>
  );
}
