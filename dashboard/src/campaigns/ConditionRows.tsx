import { useId } from "react";

import type { Condition } from "./assignments";

/** A condition as typed: its value as text (a list's choices separated by commas) until saved,
 * so a comma being typed is not lost. */
export interface DraftCondition {
  field: string;
  op: Condition["op"];
  text: string;
  /** The stored value it was read from: kept as it was (a number, true) while its text is unchanged. */
  stored?: unknown;
}

function asText(value: unknown): string {
  if (Array.isArray(value)) return value.map((item) => (typeof item === "string" ? item : JSON.stringify(item))).join(", ");
  return typeof value === "string" ? value : JSON.stringify(value);
}

export function toDrafts(conditions: Record<string, unknown>[]): DraftCondition[] {
  return conditions.map((c) => ({ field: String(c.field ?? ""), op: (c.op ?? "eq") as Condition["op"], text: asText(c.value), stored: c.value }));
}

export function fromDrafts(drafts: DraftCondition[]): Condition[] {
  return drafts.map(({ field, op, text, stored }) => {
    if (stored !== undefined && asText(stored) === text && Array.isArray(stored) === (op === "any")) return { field, op, value: stored };
    const value = op === "any" ? text.split(",").map((part) => part.trim()).filter(Boolean) : text.trim();
    return { field: field.trim(), op, value };
  });
}

/** What a condition may read: the call's trigger data, or a contact field as lead conditions name
 * them (any other `trigger.<path>` or `custom.<field>` may be typed). */
const FIELDS = ["trigger.agent_id", "trigger.call_id", "trigger.context.language", "lead_source", "entry_type", "tags", "name", "email", "phone", "custom.plan"];
const OPS: { value: Condition["op"]; label: string }[] = [
  { value: "eq", label: "is" },
  { value: "ne", label: "is not" },
  { value: "contains", label: "contains" },
  { value: "any", label: "is one of" },
];

interface ConditionRowsProps {
  value: DraftCondition[];
  onChange: (value: DraftCondition[]) => void;
}

/** An assignment's conditions, all of which must hold, in the lead conditions' shape. */
export function ConditionRows({ value, onChange }: ConditionRowsProps) {
  const fieldsId = useId();
  const update = (index: number, change: Partial<DraftCondition>) => onChange(value.map((row, i) => (i === index ? { ...row, ...change } : row)));

  return (
    <fieldset className="assignment-conditions">
      <legend>Only when (all hold)</legend>
      <datalist id={fieldsId}>
        {FIELDS.map((field) => (
          <option key={field} value={field} />
        ))}
      </datalist>
      {value.length === 0 && <p className="hint">Every call of the trigger.</p>}
      {value.map((row, index) => (
        <div className="assignment-condition" key={index} role="group" aria-label={`Condition ${index + 1}`}>
          <input aria-label="Field" list={fieldsId} required value={row.field} onChange={(e) => update(index, { field: e.target.value })} />
          <select aria-label="Comparison" value={row.op} onChange={(e) => update(index, { op: e.target.value as Condition["op"] })}>
            {OPS.map((op) => (
              <option key={op.value} value={op.value}>
                {op.label}
              </option>
            ))}
          </select>
          <input aria-label={row.op === "any" ? "Values, separated by commas" : "Value"} value={row.text} onChange={(e) => update(index, { text: e.target.value })} />
          <button type="button" className="button-quiet button-quiet-danger" aria-label={`Remove condition ${index + 1}`} onClick={() => onChange(value.filter((_, i) => i !== index))}>
            ×
          </button>
        </div>
      ))}
      <div>
        <button type="button" className="button" onClick={() => onChange([...value, { field: "trigger.agent_id", op: "eq", text: "" }])}>
          Add condition
        </button>
      </div>
      <p className="hint">On the call (trigger.agent_id, trigger.context.&lt;key&gt;) or the contact (lead_source, tags, custom.&lt;field&gt;); case does not matter.</p>
    </fieldset>
  );
}
