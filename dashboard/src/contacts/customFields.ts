/** A custom field as the form edits it: its key and its value as text. */
export interface CustomRow {
  key: string;
  value: string;
}

/** Text for a stored value: strings as they are, anything else as JSON. */
export function valueText(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** The value a row's text stands for: JSON when it reads as a number, boolean, list or
 * object (so `42` stays a number), otherwise the text itself. */
export function parsedValue(text: string): unknown {
  const trimmed = text.trim();
  if (/^(-?\d|true$|false$|null$|\[|\{)/.test(trimmed)) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return text;
    }
  }
  return text;
}

export function rowsOf(custom: Record<string, unknown> | null | undefined): CustomRow[] {
  return Object.entries(custom ?? {}).map(([key, value]) => ({ key, value: valueText(value) }));
}

/** The change to send: each row's value, and `null` for each key the user removed (the API
 * merges `custom`, and a null value removes a key). */
export function customChange(before: Record<string, unknown> | null | undefined, rows: CustomRow[]): Record<string, unknown> {
  const change: Record<string, unknown> = {};
  for (const key of Object.keys(before ?? {})) change[key] = null;
  for (const row of rows) if (row.key.trim()) change[row.key.trim()] = parsedValue(row.value);
  return change;
}
