import { useCallback, useEffect, useRef, useState } from "react";

import { api, call } from "../api/client";
import { apiQuery, searchOf, type ExecutionFilters } from "./filters";
import type { Execution } from "./format";

export const PAGE_SIZE = 50;

export type ExecutionList =
  | { status: "loading" }
  | { status: "error"; error: unknown }
  | {
      status: "ready";
      items: Execution[];
      nextCursor: string | null;
      /** Rows that arrived live, highlighted for a moment. */
      fresh: ReadonlySet<string>;
      more: "idle" | "loading" | { error: unknown };
    };

function summaryOf(detail: Execution): Execution {
  // The detail carries the timeline and documents; the list keeps the summary's fields only.
  const { id, flow_id, version, status, workflow_id, temporal_url, contact_name, contact_phone, test, reason } = detail;
  const { current_node, retry_of, parent_execution_id, contact_id, campaign_id, created_at, started_at, ended_at, updated_at } =
    detail;
  return {
    id,
    flow_id,
    version,
    status,
    workflow_id,
    temporal_url,
    contact_name,
    contact_phone,
    test,
    reason,
    current_node,
    retry_of,
    parent_execution_id,
    contact_id,
    campaign_id,
    created_at,
    started_at,
    ended_at,
    updated_at,
  };
}

/** The executions matching `filters`, newest first, a page at a time, kept current by
 * `refresh(ids)` when the event stream says those executions changed. */
export function useExecutionList(filters: ExecutionFilters) {
  const [list, setList] = useState<ExecutionList>({ status: "loading" });
  const [asked, setAsked] = useState(0);
  const [liveProblem, setLiveProblem] = useState<unknown>(null);
  const key = searchOf(filters).toString();
  const current = useRef(list);
  current.current = list;
  const query = useRef(apiQuery(filters));
  query.current = apiQuery(filters);
  // An answer for filters no longer shown is dropped (they changed while it was on its way).
  const shownKey = useRef(key);
  shownKey.current = key;

  useEffect(() => {
    let alive = true;
    setList({ status: "loading" });
    call(api.GET("/api/executions", { params: { query: { ...query.current, limit: PAGE_SIZE } } })).then(
      (page) => alive && setList({ status: "ready", items: page.items, nextCursor: page.next_cursor, fresh: new Set(), more: "idle" }),
      (error: unknown) => alive && setList({ status: "error", error }),
    );
    return () => {
      alive = false;
    };
  }, [key, asked]);

  const retry = useCallback(() => setAsked((n) => n + 1), []);

  const loadMore = useCallback(async () => {
    const shown = current.current;
    if (shown.status !== "ready" || shown.nextCursor === null) return;
    setList({ ...shown, more: "loading" });
    const asked = shownKey.current;
    try {
      const page = await call(
        api.GET("/api/executions", { params: { query: { ...query.current, limit: PAGE_SIZE, cursor: shown.nextCursor } } }),
      );
      if (shownKey.current !== asked) return;
      setList((now) => {
        if (now.status !== "ready") return now;
        const known = new Set(now.items.map((e) => e.id));
        return { ...now, items: [...now.items, ...page.items.filter((e) => !known.has(e.id))], nextCursor: page.next_cursor, more: "idle" };
      });
    } catch (error) {
      if (shownKey.current !== asked) return;
      setList((now) => (now.status === "ready" ? { ...now, more: { error } } : now));
    }
  }, []);

  /** Reads again the executions the stream named: rows shown are updated in place; new ones
   * that match the filters are put at the top. With `readTop`, the first page is read
   * whatever the ids (the stream just opened: what happened before it is not in it). */
  const refresh = useCallback(async (ids: ReadonlySet<string>, readTop = false) => {
    const shown = current.current;
    if (shown.status !== "ready") return;
    const listed = new Set(shown.items.map((e) => e.id));
    const known = [...ids].filter((id) => listed.has(id));
    const unknown = readTop || [...ids].some((id) => !listed.has(id));
    const asked = shownKey.current;
    try {
      const [updated, top] = await Promise.all([
        Promise.all(known.map((id) => call(api.GET("/api/executions/{execution_id}", { params: { path: { execution_id: id } } })))),
        unknown ? call(api.GET("/api/executions", { params: { query: { ...query.current, limit: PAGE_SIZE } } })) : null,
      ]);
      if (shownKey.current !== asked) return;
      setLiveProblem(null);
      setList((now) => {
        if (now.status !== "ready") return now;
        const byId = new Map(updated.map((e) => [e.id, summaryOf(e)]));
        for (const row of top?.items ?? []) byId.set(row.id, row);
        const items = now.items.map((row) => byId.get(row.id) ?? row);
        const present = new Set(items.map((e) => e.id));
        const arrived = (top?.items ?? []).filter((row) => !present.has(row.id));
        if (arrived.length === 0) return { ...now, items };
        const merged = [...arrived, ...items].sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at));
        return { ...now, items: merged, fresh: new Set(arrived.map((e) => e.id)) };
      });
    } catch (error) {
      setLiveProblem(error);
    }
  }, []);

  return { list, retry, loadMore, refresh, liveProblem };
}
