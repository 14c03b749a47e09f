import { useCallback, useEffect, useState } from "react";

export type Resource<T> =
  | { status: "loading" }
  | { status: "error"; error: unknown }
  | { status: "ready"; data: T };

/** Data loaded for the component that shows it: loading, then ready or error. `reload` asks
 * again (what is shown stays until the answer comes); `replace` puts in what a change returned. */
export function useResource<T>(load: () => Promise<T>, deps: readonly unknown[]) {
  const [resource, setResource] = useState<Resource<T>>({ status: "loading" });
  const [asked, setAsked] = useState(0);

  useEffect(() => {
    let current = true;
    load().then(
      (data) => current && setResource({ status: "ready", data }),
      (error: unknown) => current && setResource({ status: "error", error }),
    );
    return () => {
      current = false;
    };
    // `deps` (not `load`, a new function each render) says when to load again.
  }, [...deps, asked]);

  const reload = useCallback(() => setAsked((n) => n + 1), []);
  const retry = useCallback(() => {
    setResource({ status: "loading" });
    setAsked((n) => n + 1);
  }, []);
  const replace = useCallback((data: T) => setResource({ status: "ready", data }), []);
  return { resource, reload, retry, replace };
}
