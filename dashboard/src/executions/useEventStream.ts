import { useCallback, useEffect, useRef, useState } from "react";

/** One event of the tenant's log, as GET /api/events/stream sends it (SPEC §5). */
export interface FlowEvent {
  id: number;
  type: string;
  flow_id: string | null;
  execution_id: string | null;
  node_id: string | null;
  data: Record<string, unknown>;
  created_at: string;
}

/** The events that change an execution: its start, each step, and how it ends. */
export const EXECUTION_EVENTS = [
  "flow.started",
  "flow.step.started",
  "flow.step.completed",
  "flow.step.failed",
  "flow.completed",
  "flow.failed",
  "flow.cancelled",
  "flow.skipped",
] as const;

/** `connecting` the first time; `live` while open; `reconnecting` while the browser tries again
 * by itself (it sends `Last-Event-ID`, so nothing is missed); `closed` when it gave up (the API
 * refused the stream): then only `reconnect()` opens it again. */
export type StreamState = "connecting" | "live" | "reconnecting" | "closed";

function streamUrl(executionId: string | undefined, after: number | null): string {
  const params = new URLSearchParams({ types: EXECUTION_EVENTS.join(",") });
  if (executionId) params.set("execution_id", executionId);
  if (after !== null) params.set("last_event_id", String(after));
  return `/api/events/stream?${params.toString()}`;
}

interface StreamOptions {
  /** Only this execution's events. */
  executionId?: string;
  /** Called each time the stream opens: what changed before it did is not in it. */
  onOpen?: () => void;
  /** False: no stream (a run that has ended changes no more). */
  enabled?: boolean;
}

/** Follows the event stream (the session cookie authenticates it) while the component lives;
 * `onEvent` is called for each execution event. */
export function useEventStream(onEvent: (event: FlowEvent) => void, { executionId, onOpen, enabled = true }: StreamOptions = {}) {
  const [state, setState] = useState<StreamState>("connecting");
  const [opened, setOpened] = useState(0);
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const openHandler = useRef(onOpen);
  openHandler.current = onOpen;
  // The last event seen: a stream opened again by hand resumes after it.
  const lastId = useRef<number | null>(null);

  useEffect(() => {
    if (!enabled) return;
    const source = new EventSource(streamUrl(executionId, lastId.current));
    const receive = (message: MessageEvent<string>) => {
      let event: FlowEvent;
      try {
        event = JSON.parse(message.data) as FlowEvent;
      } catch {
        return; // not one of ours: nothing to show
      }
      lastId.current = event.id;
      handler.current(event);
    };
    for (const type of EXECUTION_EVENTS) source.addEventListener(type, receive);
    source.onopen = () => {
      setState("live");
      openHandler.current?.();
    };
    source.onerror = () => setState(source.readyState === EventSource.CLOSED ? "closed" : "reconnecting");
    return () => source.close();
  }, [executionId, opened, enabled]);

  const reconnect = useCallback(() => {
    setState("connecting");
    setOpened((n) => n + 1);
  }, []);
  return { state, reconnect };
}
