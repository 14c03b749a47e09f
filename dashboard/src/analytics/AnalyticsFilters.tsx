import { type ReactNode, useId } from "react";

import type { Flow } from "../api/client";
import type { Resource } from "../api/useResource";
import { messageOf } from "../api/client";
import { lastDays, PRESETS, utcDay, type Range } from "./range";

interface AnalyticsFiltersProps {
  range: Range;
  onRange: (range: Range) => void;
  flows: Resource<Flow[]>;
  /** The flow shown, or null for all flows. */
  flowId: string | null;
  onFlow: (flowId: string | null) => void;
  /** More filters of the page, after the flow (a flow's version). */
  children?: ReactNode;
}

/** The window (days, test runs) and the flow the analytics pages show. */
export function AnalyticsFilters({ range, onRange, flows, flowId, onFlow, children }: AnalyticsFiltersProps) {
  const id = useId();
  const today = utcDay(new Date());
  const listed = flows.status === "ready" ? flows.data : [];
  const known = flowId === null || listed.some((flow) => flow.id === flowId);

  return (
    <div className="analytics-filters" role="group" aria-label="What to show">
      <div className="filter">
        <label htmlFor={`${id}-flow`}>Flow</label>
        <select
          id={`${id}-flow`}
          value={flowId ?? ""}
          onChange={(event) => onFlow(event.target.value === "" ? null : event.target.value)}
          disabled={flows.status === "loading"}
        >
          <option value="">All flows</option>
          {!known && flowId !== null && <option value={flowId}>{flows.status === "ready" ? "Not one of your flows" : "This flow"}</option>}
          {listed.map((flow) => (
            <option key={flow.id} value={flow.id}>
              {flow.name}
            </option>
          ))}
        </select>
      </div>
      {children}
      <div className="filter">
        <label htmlFor={`${id}-from`}>From</label>
        <input
          id={`${id}-from`}
          type="date"
          value={range.from}
          max={today}
          onChange={(event) => event.target.value && onRange({ ...range, from: event.target.value })}
        />
      </div>
      <div className="filter">
        <label htmlFor={`${id}-to`}>To</label>
        <input
          id={`${id}-to`}
          type="date"
          value={range.to}
          onChange={(event) => event.target.value && onRange({ ...range, to: event.target.value })}
        />
      </div>
      <div className="filter-presets" role="group" aria-label="Quick ranges">
        {PRESETS.map((days) => {
          const preset = lastDays(days);
          const active = preset.from === range.from && preset.to === range.to;
          return (
            <button
              key={days}
              type="button"
              className={active ? "chip chip-active" : "chip"}
              aria-pressed={active}
              onClick={() => onRange({ ...range, ...preset })}
            >
              {days} days
            </button>
          );
        })}
      </div>
      <label className="filter filter-check">
        <input
          type="checkbox"
          checked={range.includeTest}
          onChange={(event) => onRange({ ...range, includeTest: event.target.checked })}
        />
        <span>Include test runs</span>
      </label>
      {/* On a line of its own, under the fields: the fields stay lined up. */}
      {flows.status === "error" && <p className="filter-problem">Flows unavailable: {messageOf(flows.error)}</p>}
    </div>
  );
}
