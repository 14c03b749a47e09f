/** "0:42", "12:05", "1:02:07": how long something has lasted, from whole seconds. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${rest}` : `${minutes}:${rest}`;
}

/** The local clock time of an API timestamp ("14:03:27"), with the date when not today. */
export function clockTime(iso: string): string {
  const when = new Date(iso);
  const time = when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  if (when.toDateString() === new Date().toDateString()) return time;
  return `${when.toLocaleDateString([], { month: "short", day: "numeric" })} ${time}`;
}

/** "Open 09:30–18:30 mon–fri (Asia/Kolkata)": a department's business hours, as the API
 * stores them (`start`, `end`, `timezone`, `days`). */
export function hoursSummary(hours: Record<string, unknown>): string {
  const start = typeof hours["start"] === "string" ? hours["start"] : "?";
  const end = typeof hours["end"] === "string" ? hours["end"] : "?";
  const zone = typeof hours["timezone"] === "string" ? hours["timezone"] : "UTC";
  const days = Array.isArray(hours["days"]) ? hours["days"].map(String) : ["mon", "tue", "wed", "thu", "fri"];
  return `Open ${start}–${end} ${dayRange(days)} (${zone})`;
}

const WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/** "mon–fri" for consecutive days, else "mon, wed, fri". */
function dayRange(days: string[]): string {
  const indexes = days.map((day) => WEEK.indexOf(day)).sort((a, b) => a - b);
  const first = indexes[0];
  const last = indexes[indexes.length - 1];
  const consecutive =
    first !== undefined && last !== undefined && first >= 0 && indexes.length > 2 && last - first === indexes.length - 1;
  if (consecutive) return `${WEEK[first]}–${WEEK[last]}`;
  return indexes.map((index) => WEEK[index] ?? "?").join(", ");
}
