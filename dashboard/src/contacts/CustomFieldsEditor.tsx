import type { CustomRow } from "./customFields";

interface CustomFieldsEditorProps {
  rows: CustomRow[];
  onChange: (rows: CustomRow[]) => void;
}

/** A contact's custom fields as rows of key and value, added and removed at will. */
export function CustomFieldsEditor({ rows, onChange }: CustomFieldsEditorProps) {
  const set = (index: number, change: Partial<CustomRow>) =>
    onChange(rows.map((row, i) => (i === index ? { ...row, ...change } : row)));

  return (
    <div className="custom-fields">
      {rows.map((row, index) => (
        <div className="inline-row custom-field-row" key={index}>
          <input aria-label={`Custom field ${index + 1} name`} placeholder="name" value={row.key} onChange={(e) => set(index, { key: e.target.value })} />
          <input aria-label={`Custom field ${index + 1} value`} placeholder="value" value={row.value} onChange={(e) => set(index, { value: e.target.value })} />
          <button type="button" className="button-quiet button-quiet-danger" aria-label={`Remove custom field ${row.key || index + 1}`} onClick={() => onChange(rows.filter((_, i) => i !== index))}>
            Remove
          </button>
        </div>
      ))}
      <button type="button" className="button-link" onClick={() => onChange([...rows, { key: "", value: "" }])}>
        Add a custom field
      </button>
      <p className="hint">Values are text; a number, true / false or JSON is kept as such.</p>
    </div>
  );
}
