import { useFormContext } from "./FormContext";

const OPS = ["eq", "ne", "gt", "gte", "lt", "lte", "contains", "not_contains", "starts_with", "ends_with", "in", "not_in", "is_empty", "is_not_empty", "exists", "regex", "before", "after"];
const OP_LABELS: Record<string, string> = {
  eq: "equals", ne: "does not equal", gt: ">", gte: "≥", lt: "<", lte: "≤", contains: "contains", not_contains: "does not contain",
  starts_with: "starts with", ends_with: "ends with", in: "is one of", not_in: "is none of", is_empty: "is empty",
  is_not_empty: "is not empty", exists: "exists", regex: "matches regex", before: "is before", after: "is after",
};
const NO_VALUE = new Set(["is_empty", "is_not_empty", "exists"]);
const LIST_VALUE = new Set(["in", "not_in"]);

type Condition = Record<string, unknown>;

interface ConditionEditorProps {
  id: string;
  value: unknown;
  onChange: (value: Condition | undefined) => void;
  onRemove?: () => void;
}

const blank = (): Condition => ({ var: "", op: "eq", value: "" });
const isObject = (value: unknown): value is Condition => typeof value === "object" && value !== null && !Array.isArray(value);

/** A condition (SPEC §3): rows of variable, operator and value, grouped with all/any, each
 * negatable with NOT; kept in the document's own shape. */
export function ConditionEditor({ id, value, onChange, onRemove }: ConditionEditorProps) {
  const { readOnly } = useFormContext();
  if (!isObject(value)) {
    return readOnly ? (
      <p className="hint">No condition.</p>
    ) : (
      <button type="button" className="button button-small" onClick={() => onChange(blank())}>
        Add condition
      </button>
    );
  }
  if ("not" in value) {
    return (
      <div className="condition-not">
        <span className="condition-keyword">NOT</span>
        <ConditionEditor id={`${id}-not`} value={value.not} onChange={(inner) => onChange(inner === undefined ? undefined : { not: inner })} onRemove={onRemove} />
        {!readOnly && (
          <button type="button" className="button-quiet button-small" onClick={() => onChange(value.not as Condition)}>
            Remove NOT
          </button>
        )}
      </div>
    );
  }
  const mode = "all" in value ? "all" : "any" in value ? "any" : null;
  if (mode !== null) {
    const items = Array.isArray(value[mode]) ? (value[mode] as unknown[]) : [];
    const set = (next: unknown[], nextMode = mode) => onChange(next.length === 0 ? undefined : { [nextMode]: next });
    return (
      <fieldset className="condition-group">
        <legend className="visually-hidden">Group of conditions</legend>
        <div className="condition-group-head">
          <select aria-label="Combine with" value={mode} disabled={readOnly} onChange={(e) => set(items, e.target.value as "all" | "any")}>
            <option value="all">All of (AND)</option>
            <option value="any">Any of (OR)</option>
          </select>
          {!readOnly && (
            <span className="condition-actions">
              <button type="button" className="button-quiet button-small" onClick={() => onChange({ not: value })}>
                Negate group
              </button>
              {onRemove && (
                <button type="button" className="button-quiet button-small" onClick={onRemove}>
                  Remove group
                </button>
              )}
            </span>
          )}
        </div>
        {items.map((item, index) => (
          <ConditionEditor
            key={index}
            id={`${id}-${index}`}
            value={item}
            onChange={(inner) => set(inner === undefined ? items.filter((_, i) => i !== index) : items.map((old, i) => (i === index ? inner : old)))}
            onRemove={() => set(items.filter((_, i) => i !== index))}
          />
        ))}
        {!readOnly && (
          <div className="condition-add">
            <button type="button" className="button button-small" onClick={() => set([...items, blank()])}>
              Add condition
            </button>
            <button type="button" className="button button-small" onClick={() => set([...items, { any: [blank()] }])}>
              Add group
            </button>
          </div>
        )}
      </fieldset>
    );
  }
  return <ComparisonRow id={id} value={value} onChange={onChange} onRemove={onRemove} />;
}

function ComparisonRow({ id, value, onChange, onRemove }: { id: string; value: Condition; onChange: (value: Condition | undefined) => void; onRemove?: () => void }) {
  const { readOnly, scope } = useFormContext();
  const op = typeof value.op === "string" ? value.op : "eq";
  const set = (change: Condition) => onChange({ ...value, ...change });
  const listId = `${id}-vars`;
  const shown = Array.isArray(value.value) ? value.value.join(", ") : value.value === null || value.value === undefined ? "" : String(value.value);
  return (
    <div className="condition-row" role="group" aria-label="Condition">
      <input
        aria-label="Variable"
        list={listId}
        placeholder="contact.score"
        value={typeof value.var === "string" ? value.var : ""}
        disabled={readOnly}
        onChange={(e) => set({ var: e.target.value })}
      />
      <datalist id={listId}>
        {scope.flatMap((group) => group.names).map((name) => (
          <option key={name} value={name} />
        ))}
      </datalist>
      <select
        aria-label="Operator"
        value={op}
        disabled={readOnly}
        onChange={(e) => {
          const next = e.target.value;
          if (NO_VALUE.has(next)) {
            const { value: _gone, ...rest } = value;
            onChange({ ...rest, op: next });
          } else set({ op: next, value: LIST_VALUE.has(next) ? (Array.isArray(value.value) ? value.value : shown ? [shown] : []) : shown });
        }}
      >
        {OPS.map((name) => (
          <option key={name} value={name}>
            {OP_LABELS[name]}
          </option>
        ))}
      </select>
      {!NO_VALUE.has(op) && (
        <input
          aria-label={LIST_VALUE.has(op) ? "Values, separated by commas" : "Value"}
          value={shown}
          disabled={readOnly}
          onChange={(e) => set({ value: LIST_VALUE.has(op) ? e.target.value.split(",").map((part) => part.trim()).filter(Boolean) : e.target.value })}
        />
      )}
      {!readOnly && (
        <span className="condition-actions">
          <button type="button" className="button-quiet button-small" onClick={() => onChange({ all: [value, blank()] })} title="Add a condition that must also hold">
            AND
          </button>
          <button type="button" className="button-quiet button-small" onClick={() => onChange({ any: [value, blank()] })} title="Add a condition that may hold instead">
            OR
          </button>
          <button type="button" className="button-quiet button-small" onClick={() => onChange({ not: value })} title="Negate this condition">
            NOT
          </button>
          <button type="button" className="button-quiet button-quiet-danger button-small" aria-label="Remove condition" onClick={() => (onRemove ? onRemove() : onChange(undefined))}>
            ×
          </button>
        </span>
      )}
    </div>
  );
}
