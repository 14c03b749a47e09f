import { useCallback, useEffect, useState } from "react";
import { useNavigate, useSearchParams } from "react-router";

import { rangeOf, withRange, type Range } from "./range";

/** The range (and a flow's version) in the address, and moves between the overview and a flow's
 * report that keep the range. */
export function useAnalyticsView() {
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const query = params.toString();
  // Held here as well as in the address, so that a control shows its new value at once (the
  // address changes a moment later); the address wins when it changes (back, forward, a link).
  const [range, setShown] = useState<Range>(() => rangeOf(new URLSearchParams(query)));
  useEffect(() => setShown(rangeOf(new URLSearchParams(query))), [query]);

  const setRange = useCallback(
    (next: Range) => {
      setShown(next);
      setParams(withRange(new URLSearchParams(query), next), { replace: true });
    },
    [query, setParams],
  );
  const version = versionOf(params.get("version"));
  const setVersion = useCallback(
    (next: number | null) => {
      const changed = new URLSearchParams(query);
      if (next === null) changed.delete("version");
      else changed.set("version", String(next));
      setParams(changed, { replace: true });
    },
    [query, setParams],
  );
  const showFlow = useCallback(
    (flowId: string | null) => {
      const search = withoutVersion(withRange(new URLSearchParams(query), range)).toString();
      navigate({ pathname: flowId === null ? "/analytics" : `/analytics/${encodeURIComponent(flowId)}`, search });
    },
    [query, range, navigate],
  );
  /** A link's target for a flow's report (or the overview) with the same range. */
  const hrefFor = useCallback(
    (flowId: string | null) => {
      const search = withoutVersion(withRange(new URLSearchParams(query), range)).toString();
      return `${flowId === null ? "/analytics" : `/analytics/${encodeURIComponent(flowId)}`}?${search}`;
    },
    [query, range],
  );
  return { range, setRange, version, setVersion, showFlow, hrefFor };
}

/** A flow's version asked for in the address (`?version=2`), or null for every version. */
function versionOf(value: string | null): number | null {
  const number = Number(value);
  return value !== null && Number.isInteger(number) && number >= 1 ? number : null;
}

/** Another flow's report does not keep this one's version. */
function withoutVersion(params: URLSearchParams): URLSearchParams {
  params.delete("version");
  return params;
}
