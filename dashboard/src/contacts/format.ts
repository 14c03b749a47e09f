/** A moment as people read it in a list: "5 Dec 2026, 01:52" in the browser's own zone. */
export function shortTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  return new Date(iso).toLocaleString(undefined, {
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
}

/** The tag that keeps a contact from being called or messaged (SPEC §4: `DNC`, any case). */
export const DNC_TAG = "DNC";

export function isDnc(tags: readonly string[] | null | undefined): boolean {
  return (tags ?? []).some((tag) => tag.toUpperCase() === DNC_TAG);
}

/** The tags with the DNC flag set or cleared (any spelling of it removed first). */
export function withDnc(tags: readonly string[] | null | undefined, on: boolean): string[] {
  const rest = (tags ?? []).filter((tag) => tag.toUpperCase() !== DNC_TAG);
  return on ? [...rest, DNC_TAG] : rest;
}

/** A day as people read it in a list: "5 Dec 2026" (the time in `shortTime`). */
export function shortDate(iso: string | null | undefined): string {
  if (!iso) return "—";
  return new Date(iso).toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" });
}
