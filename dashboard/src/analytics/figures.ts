// How the analytics pages name, colour and write the API's figures.

import type { Schemas } from "../api/client";

/** The outcomes a run ends with (the API's `Rates`), then the runs still under way. */
export const OUTCOMES = ["completed", "failed", "cancelled", "skipped"] as const;
export type Outcome = (typeof OUTCOMES)[number];
export type Series = Outcome | "in_progress";
export const SERIES: readonly Series[] = [...OUTCOMES, "in_progress"];

export const SERIES_LABELS: Record<Series, string> = {
  completed: "Completed",
  failed: "Failed",
  cancelled: "Cancelled",
  skipped: "Skipped",
  in_progress: "In progress",
};

/** Colours that stay apart for the common kinds of colour blindness (Okabe-Ito). */
export const SERIES_COLOURS: Record<Series, string> = {
  completed: "#009e73",
  failed: "#d55e00",
  cancelled: "#7a7f8c",
  skipped: "#e69f00",
  in_progress: "#56b4e9",
};

type Totals = Pick<Schemas["Day"], "runs" | "by_status">;

/** A run count per series: the terminal statuses as they are, everything else in progress. */
export function countsOf(totals: Totals): Record<Series, number> {
  const counts: Record<Series, number> = { completed: 0, failed: 0, cancelled: 0, skipped: 0, in_progress: 0 };
  for (const [status, count] of Object.entries(totals.by_status)) {
    if ((OUTCOMES as readonly string[]).includes(status)) counts[status as Outcome] += count;
    else counts.in_progress += count;
  }
  return counts;
}

/** "62.5%" of a 0..1 rate; whole numbers without decimals. */
export function percent(rate: number): string {
  const value = Math.round(rate * 1000) / 10;
  return `${value}%`;
}

/** "1,234". */
export function count(value: number): string {
  return value.toLocaleString("en-GB");
}

/** "1 run", "3 runs". */
export function runs(value: number): string {
  return `${count(value)} ${value === 1 ? "run" : "runs"}`;
}

/** A duration as people read it: "850 ms", "4.2 s", "3 min 5 s", "2 h 10 min". */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.round(hours / 24)} days`;
}
