// The window the analytics pages show, kept in the address (?from=…&to=…&test=1) so a report
// can be bookmarked, shared and reloaded. Days are UTC days, as the API counts them.

export interface Range {
  /** First day shown, `YYYY-MM-DD` (UTC). */
  from: string;
  /** Last day shown, inclusive, `YYYY-MM-DD` (UTC). */
  to: string;
  /** Count test runs too. */
  includeTest: boolean;
}

const DAY_MS = 24 * 3600 * 1000;
export const DEFAULT_DAYS = 30;
export const PRESETS = [7, 30, 90] as const;

/** `YYYY-MM-DD` of a moment's UTC day. */
export function utcDay(moment: Date): string {
  return moment.toISOString().slice(0, 10);
}

/** The UTC day `days` after `day` (before, when negative). */
export function addDays(day: string, days: number): string {
  return utcDay(new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS));
}

function isDay(value: string | null): value is string {
  return value !== null && /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`));
}

/** The last `days` days, today included. */
export function lastDays(days: number, now: Date = new Date()): Pick<Range, "from" | "to"> {
  const to = utcDay(now);
  return { from: addDays(to, -(days - 1)), to };
}

/** The range an address asks for (`from` and `to`, or the last `days`); the last 30 days where
 * it says nothing (or nonsense). */
export function rangeOf(params: URLSearchParams, now: Date = new Date()): Range {
  const days = Number(params.get("days"));
  const fallback = lastDays(Number.isInteger(days) && days > 0 && days <= 366 ? days : DEFAULT_DAYS, now);
  const from = params.get("from");
  const to = params.get("to");
  return {
    from: isDay(from) ? from : fallback.from,
    to: isDay(to) ? to : fallback.to,
    includeTest: params.get("test") === "1",
  };
}

/** The address's query for a range (and whatever else it carried). */
export function withRange(params: URLSearchParams, range: Range): URLSearchParams {
  const next = new URLSearchParams(params);
  next.delete("days");
  next.set("from", range.from);
  next.set("to", range.to);
  if (range.includeTest) next.set("test", "1");
  else next.delete("test");
  return next;
}

/** The query the analytics routes take: [since, until) from the first day's start to the end
 * of the last day. A `to` before `from` is passed on as it is: the API says what is wrong. */
export function apiWindow(range: Range): { since: string; until: string; include_test: boolean } {
  return {
    since: `${range.from}T00:00:00Z`,
    until: `${addDays(range.to, 1)}T00:00:00Z`,
    include_test: range.includeTest,
  };
}

/** Every day of the range, in order (the charts show days without runs as zero). At most a
 * year's worth, so a mistyped year does not draw thousands of empty bars. */
export function daysOf(range: Pick<Range, "from" | "to">): string[] {
  const days: string[] = [];
  for (let day = range.from; day <= range.to && days.length < 366; day = addDays(day, 1)) days.push(day);
  return days;
}

/** "3 Dec 2026", as the page writes a UTC day. */
export function dayLabel(day: string): string {
  return new Date(`${day}T00:00:00Z`).toLocaleDateString("en-GB", {
    day: "numeric",
    month: "short",
    year: "numeric",
    timeZone: "UTC",
  });
}
