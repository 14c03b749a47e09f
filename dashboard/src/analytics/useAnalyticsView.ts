import { useCallback, useEffect, useState } from "react";
import { useNavigate, useSearchParams } from "react-router";

import { rangeOf, withRange, type Range } from "./range";

/** The range in the address, and moves between the overview and a flow's report that keep it. */
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
  const showFlow = useCallback(
    (flowId: string | null) => {
      const search = withRange(new URLSearchParams(query), range).toString();
      navigate({ pathname: flowId === null ? "/analytics" : `/analytics/${encodeURIComponent(flowId)}`, search });
    },
    [query, range, navigate],
  );
  /** A link's target for a flow's report (or the overview) with the same range. */
  const hrefFor = useCallback(
    (flowId: string | null) => {
      const search = withRange(new URLSearchParams(query), range).toString();
      return `${flowId === null ? "/analytics" : `/analytics/${encodeURIComponent(flowId)}`}?${search}`;
    },
    [query, range],
  );
  return { range, setRange, showFlow, hrefFor };
}
