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
 * failed refresh keeps what is shown and says so. */
export function useLive<T>(load: () => Promise<T>, deps: readonly unknown[], everyMs: number = LIVE_EVERY_MS): Live<T> {
  const [resource, setResource] = useState<Resource<T>>({ status: "loading" });
  const [updatedAt, setUpdatedAt] = useState<Date | null>(null);
  const [stale, setStale] = useState<unknown>(null);
  const [asked, setAsked] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    let alive = true;
    let timer: number | undefined;
    let inFlight = false;

    async function tick() {
      window.clearTimeout(timer);
      if (!alive || inFlight) return;
      if (document.visibilityState === "hidden") return; // asked again when shown
      inFlight = true;
      try {
        const data = await loadRef.current();
        if (!alive) return;
        setResource({ status: "ready", data });
        setUpdatedAt(new Date());
        setStale(null);
      } catch (error) {
        if (!alive) return;
        setResource((current) => (current.status === "ready" ? current : { status: "error", error }));
        setStale(error);
      } finally {
        inFlight = false;
        if (alive) timer = window.setTimeout(() => void tick(), everyMs);
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
    setResource({ status: "loading" });
    setAsked((n) => n + 1);
  }, []);
  return { resource, updatedAt, stale, refresh, retry };
}
