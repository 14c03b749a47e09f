import { useId } from "react";

import type { Schemas } from "../api/client";
import { runs as runsText } from "./figures";

interface VersionPickerProps {
  /** The flow's versions (empty until the flow has loaded). */
  versions: Schemas["VersionSummary"][];
  /** The window's runs per version, once the report has come. */
  runs: Schemas["VersionRuns"][] | null;
  value: number | null;
  onChange: (version: number | null) => void;
}

/** Which runs a flow's report counts: every version's, or only those pinned to one version
 * (whose graph the funnel is then drawn on). */
export function VersionPicker({ versions, runs, value, onChange }: VersionPickerProps) {
  const id = useId();
  const status = new Map(versions.map((version) => [version.number, version.status]));
  const counts = new Map(runs?.map((entry) => [entry.version, entry.runs]));
  const numbers = [...new Set([...status.keys(), ...counts.keys(), ...(value === null ? [] : [value])])].sort((a, b) => b - a);
  const label = (number: number) => {
    const state = status.get(number);
    const count = runs === null ? "" : ` · ${runsText(counts.get(number) ?? 0)}`;
    return `Version ${number}${state ? ` (${state})` : ""}${count}`;
  };
  const total = runs?.reduce((sum, entry) => sum + entry.runs, 0);
  return (
    <div className="filter">
      <label htmlFor={`${id}-version`}>Version</label>
      <select id={`${id}-version`} value={value ?? ""} onChange={(event) => onChange(event.target.value === "" ? null : Number(event.target.value))}>
        <option value="">All versions{total === undefined ? "" : ` · ${runsText(total)}`}</option>
        {numbers.map((number) => (
          <option key={number} value={number}>
            {label(number)}
          </option>
        ))}
      </select>
    </div>
  );
}
