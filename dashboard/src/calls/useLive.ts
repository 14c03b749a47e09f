import { useCallback, useEffect, useRef, useState } from "react";

import type { Resource } from "../api/useResource";

/** How often live pages ask again while they are visible. */
export const LIVE_EVERY_MS = 3000;

export interface Live<T> {
  resource: Resource<T>;
  /** When the data shown was loaded. */
  updatedAt: Date | null;
  /** A refresh that failed while older data stays on screen. */
  stale: unknown;
  /** Ask again now (after a change), without waiting for the next tick. */
  refresh: () => void;
  /** After a failed first load: back to loading, and ask again. */
  retry: () => void;
}

/** Data kept current by asking again every `everyMs` while the page is visible: a hidden
 * tab asks nothing, and asks at once when it is shown again. One request at a time; a
 * failed refresh keeps what is shown and says so; a failed first load stops asking until
 * `retry`. */
export function useLive<T>(load: () => Promise<T>, deps: readonly unknown[], everyMs: number = LIVE_EVERY_MS): Live<T> {
  const [resource, setResource] = useState<Resource<T>>({ status: "loading" });
  const [updatedAt, setUpdatedAt] = useState<Date | null>(null);
  const [stale, setStale] = useState<unknown>(null);
  const [asked, setAsked] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  // Whether data is on screen: then a failed refresh keeps it and says so.
  const shown = useRef(false);

  // Other deps: other data (another agent), loaded afresh rather than shown as stale.
  useEffect(() => {
    shown.current = false;
    setResource({ status: "loading" });
    setUpdatedAt(null);
    setStale(null);
  }, deps);

  useEffect(() => {
    let alive = true;
    let timer: number | undefined;
    let inFlight = false;

    async function tick() {
      window.clearTimeout(timer);
      if (!alive || inFlight) return;
      if (document.visibilityState === "hidden") return; // asked again when shown
      inFlight = true;
      let again = true;
      try {
        const data = await loadRef.current();
        if (!alive) return;
        shown.current = true;
        setResource({ status: "ready", data });
        setUpdatedAt(new Date());
        setStale(null);
      } catch (error) {
        if (!alive) return;
        if (shown.current) {
          setStale(error); // what is shown stays, and the next tick tries again
        } else {
          setResource({ status: "error", error });
          again = false; // nothing to keep current: the error state's "Try again" asks
        }
      } finally {
        inFlight = false;
        if (alive && again) timer = window.setTimeout(() => void tick(), everyMs);
      }
    }

    function onVisibility() {
      if (document.visibilityState === "visible") void tick();
    }

    void tick();
    document.addEventListener("visibilitychange", onVisibility);
    return () => {
      alive = false;
      window.clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisibility);
    };
    // `deps` (not `load`, a new function each render) say when to start again.
  }, [...deps, asked, everyMs]);

  const refresh = useCallback(() => setAsked((n) => n + 1), []);
  const retry = useCallback(() => {
    shown.current = false;
    setResource({ status: "loading" });
    setAsked((n) => n + 1);
  }, []);
  return { resource, updatedAt, stale, refresh, retry };
}
