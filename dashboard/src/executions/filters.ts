// The list's filters, kept in the address's query string so a filtered list can be shared
// and survives a reload: `?flow=…&status=waiting&since=2026-12-01&until=2026-12-05&test=false&q=…`.

export interface ExecutionFilters {
  flow: string;
  /** One status, or several joined by commas (the API takes either). */
  status: string;
  /** Calendar days (yyyy-mm-dd), both included, in the browser's time zone. */
  since: string;
  until: string;
  /** "" both, "true" test runs only, "false" real runs only. */
  test: "" | "true" | "false";
  q: string;
}

export const NO_FILTERS: ExecutionFilters = { flow: "", status: "", since: "", until: "", test: "", q: "" };

const KEYS = Object.keys(NO_FILTERS) as (keyof ExecutionFilters)[];
const DAY = /^\d{4}-\d{2}-\d{2}$/;

export function filtersFrom(params: URLSearchParams): ExecutionFilters {
  const test = params.get("test");
  const day = (key: string) => {
    const value = params.get(key) ?? "";
    return DAY.test(value) ? value : "";
  };
  return {
    flow: params.get("flow") ?? "",
    status: params.get("status") ?? "",
    since: day("since"),
    until: day("until"),
    test: test === "true" || test === "false" ? test : "",
    q: params.get("q") ?? "",
  };
}

/** The query string for these filters (empty ones left out). */
export function searchOf(filters: ExecutionFilters): URLSearchParams {
  const params = new URLSearchParams();
  for (const key of KEYS) {
    const value = filters[key].trim();
    if (value) params.set(key, value);
  }
  return params;
}

export function isFiltered(filters: ExecutionFilters): boolean {
  return KEYS.some((key) => filters[key].trim() !== "");
}

/** Midnight at the start of a calendar day, in this browser's time zone, as ISO. */
function startOfDay(day: string, plusDays = 0): string {
  const [year, month, date] = day.split("-").map(Number) as [number, number, number];
  return new Date(year, month - 1, date + plusDays).toISOString();
}

/** The API's query for these filters (GET /api/executions and its CSV export). */
export function apiQuery(filters: ExecutionFilters) {
  return {
    flow_id: filters.flow || undefined,
    status: filters.status ? [filters.status] : undefined,
    q: filters.q.trim() || undefined,
    since: filters.since ? startOfDay(filters.since) : undefined,
    // The last day is included: the API's `until` is exclusive, so the next midnight.
    until: filters.until ? startOfDay(filters.until, 1) : undefined,
    test: filters.test === "" ? undefined : filters.test === "true",
  };
}

/** The CSV export's address for these filters (the session cookie authenticates it). */
export function exportHref(filters: ExecutionFilters): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(apiQuery(filters))) {
    if (value === undefined) continue;
    params.set(key, Array.isArray(value) ? value.join(",") : String(value));
  }
  const query = params.toString();
  return `/api/executions/export.csv${query ? `?${query}` : ""}`;
}
