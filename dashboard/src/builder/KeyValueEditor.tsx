import { useFormContext } from "./FormContext";
import { TemplateInput } from "./TemplateInput";

interface KeyValueEditorProps {
  id: string;
  value: Record<string, unknown>;
  onChange: (value: Record<string, unknown> | undefined) => void;
  keyLabel?: string;
}

function shown(value: unknown): string {
  if (typeof value === "string") return value;
  return value === undefined ? "" : JSON.stringify(value);
}

/** A map of names to values (HTTP headers, `set.assign`, WhatsApp params, CRM fields, flow
 * variables): one row per entry, values may be templates. Values other than text (a number,
 * a list) are shown as JSON and kept as they are until edited. */
export function KeyValueEditor({ id, value, onChange, keyLabel = "Name" }: KeyValueEditorProps) {
  const { readOnly } = useFormContext();
  const entries = Object.entries(value);
  const write = (next: [string, unknown][]) => onChange(next.length === 0 ? undefined : Object.fromEntries(next));
  const freshKey = () => {
    for (let n = entries.length + 1; ; n++) if (!(String(n) in value) && !(`key${n}` in value)) return /^\d+$/.test(entries.at(-1)?.[0] ?? "") ? String(n) : `key${n}`;
  };
  return (
    <div className="kv-editor" id={id}>
      {entries.length === 0 && <p className="hint">None.</p>}
      {entries.map(([key, item], index) => (
        <div className="kv-row" key={index}>
          <input
            aria-label={`${keyLabel} ${index + 1}`}
            value={key}
            disabled={readOnly}
            onChange={(e) => write(entries.map((entry, i) => (i === index ? [e.target.value, entry[1]] : entry)))}
          />
          <TemplateInput
            id={`${id}-value-${index}`}
            value={shown(item)}
            onChange={(text) => write(entries.map((entry, i) => (i === index ? [entry[0], text] : entry)))}
            name={`Value ${index + 1}`}
            labelled={false}
          />
          {!readOnly && (
            <button type="button" className="button-quiet button-quiet-danger button-small" aria-label={`Remove ${key || "entry"}`} onClick={() => write(entries.filter((_, i) => i !== index))}>
              ×
            </button>
          )}
        </div>
      ))}
      {!readOnly && (
        <button type="button" className="button button-small" onClick={() => write([...entries, [freshKey(), ""]])}>
          Add entry
        </button>
      )}
    </div>
  );
}
