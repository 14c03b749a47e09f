import { useEffect, useId, useState } from "react";

import type { Flow } from "../api/client";
import { NO_FILTERS, isFiltered, type ExecutionFilters } from "./filters";
import { EXECUTION_STATUSES, statusLabel } from "./format";

const LIVE_STATUSES = "pending,running,waiting";
const SEARCH_PAUSE_MS = 350;

interface ExecutionFilterBarProps {
  filters: ExecutionFilters;
  flows: Flow[];
  onChange: (filters: ExecutionFilters) => void;
}

/** The list's filters: flow, status, the days it started, test runs, and the contact. */
export function ExecutionFilterBar({ filters, flows, onChange }: ExecutionFilterBarProps) {
  const id = useId();
  const [search, setSearch] = useState(filters.q);

  // The address may change the search (back, a shared link): the box follows it.
  useEffect(() => setSearch(filters.q), [filters.q]);

  // Typing applies the search once it pauses, so each keystroke is not a request.
  useEffect(() => {
    if (search === filters.q) return;
    const timer = window.setTimeout(() => onChange({ ...filters, q: search }), SEARCH_PAUSE_MS);
    return () => window.clearTimeout(timer);
  }, [search, filters, onChange]);

  const set = (key: keyof ExecutionFilters) => (value: string) => onChange({ ...filters, [key]: value });
  const knownStatus = filters.status === "" || filters.status === LIVE_STATUSES || (EXECUTION_STATUSES as readonly string[]).includes(filters.status);

  return (
    <form className="execution-filters" role="search" aria-label="Filter executions" onSubmit={(e) => {
      e.preventDefault();
      onChange({ ...filters, q: search });
    }}>
      <div className="filter-field filter-search">
        <label htmlFor={`${id}-q`}>Contact</label>
        <input id={`${id}-q`} type="search" placeholder="Name or phone" value={search} onChange={(e) => setSearch(e.target.value)} />
      </div>
      <div className="filter-field">
        <label htmlFor={`${id}-flow`}>Flow</label>
        <select id={`${id}-flow`} value={filters.flow} onChange={(e) => set("flow")(e.target.value)}>
          <option value="">All flows</option>
          {flows.map((flow) => (
            <option key={flow.id} value={flow.id}>
              {flow.name}
            </option>
          ))}
          {filters.flow && !flows.some((flow) => flow.id === filters.flow) && <option value={filters.flow}>A deleted flow</option>}
        </select>
      </div>
      <div className="filter-field">
        <label htmlFor={`${id}-status`}>Status</label>
        <select id={`${id}-status`} value={filters.status} onChange={(e) => set("status")(e.target.value)}>
          <option value="">Any status</option>
          <option value={LIVE_STATUSES}>Not ended yet</option>
          {EXECUTION_STATUSES.map((status) => (
            <option key={status} value={status}>
              {statusLabel(status)}
            </option>
          ))}
          {!knownStatus && <option value={filters.status}>{filters.status}</option>}
        </select>
      </div>
      <div className="filter-field">
        <label htmlFor={`${id}-since`}>From</label>
        <input id={`${id}-since`} type="date" value={filters.since} max={filters.until || undefined} onChange={(e) => set("since")(e.target.value)} />
      </div>
      <div className="filter-field">
        <label htmlFor={`${id}-until`}>To</label>
        <input id={`${id}-until`} type="date" value={filters.until} min={filters.since || undefined} onChange={(e) => set("until")(e.target.value)} />
      </div>
      <div className="filter-field">
        <label htmlFor={`${id}-test`}>Runs</label>
        <select id={`${id}-test`} value={filters.test} onChange={(e) => set("test")(e.target.value)}>
          <option value="">Real and test</option>
          <option value="false">Real runs only</option>
          <option value="true">Test runs only</option>
        </select>
      </div>
      {isFiltered(filters) && (
        <button type="button" className="button-quiet filter-clear" onClick={() => onChange(NO_FILTERS)}>
          Clear filters
        </button>
      )}
    </form>
  );
}
