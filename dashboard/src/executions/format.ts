// How times, durations and statuses read in the executions pages.

export type Execution = import("../api/client").Schemas["ExecutionSummary"];
export type ExecutionDetail = import("../api/client").Schemas["ExecutionOut"];
export type ExecutionStep = import("../api/client").Schemas["StepOut"];

export const EXECUTION_STATUSES = ["pending", "running", "waiting", "completed", "failed", "cancelled", "skipped"] as const;

/** Statuses from which an execution can still be cancelled. */
const LIVE = new Set(["pending", "running", "waiting"]);

export function isLive(status: string): boolean {
  return LIVE.has(status);
}

export function statusLabel(status: string): string {
  return status.charAt(0).toUpperCase() + status.slice(1);
}

const timeFormat = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

const todayFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });

/** A moment in full: "5 Dec 2026, 01:52:07". */
export function fullTime(iso: string | null | undefined): string {
  return iso ? timeFormat.format(new Date(iso)) : "—";
}

/** A moment, short when it is today: "01:52:07", else the full date. */
export function shortTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const moment = new Date(iso);
  const today = new Date();
  return moment.toDateString() === today.toDateString() ? todayFormat.format(moment) : timeFormat.format(moment);
}

/** Milliseconds as people say them: 850 ms, 4.2 s, 3 min 5 s, 2 h 10 min, 3 d 4 h. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "—";
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** How long a run took, or has taken so far while it is live. */
export function runDuration(execution: Pick<Execution, "started_at" | "ended_at" | "created_at" | "status">, now: number): {
  text: string;
  ongoing: boolean;
} {
  const start = execution.started_at ?? execution.created_at;
  const end = execution.ended_at ? Date.parse(execution.ended_at) : null;
  if (end !== null) return { text: duration(end - Date.parse(start)), ongoing: false };
  if (!isLive(execution.status)) return { text: "—", ongoing: false };
  return { text: duration(now - Date.parse(start)), ongoing: true };
}

/** The contact as a list shows it: the name, else the phone, else a dash. */
export function contactLabel(execution: Pick<Execution, "contact_name" | "contact_phone">): string {
  return execution.contact_name || execution.contact_phone || "—";
}
