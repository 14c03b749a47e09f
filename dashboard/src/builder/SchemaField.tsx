import { useEffect, useState } from "react";

import { ConditionEditor } from "./ConditionEditor";
import { useFormContext } from "./FormContext";
import { KeyValueEditor } from "./KeyValueEditor";
import { isMultiline, kindOf, labelOf, nounOf, resolve, unitOf, type JsonSchema } from "./schema";
import { TemplateInput } from "./TemplateInput";

interface SchemaFieldProps {
  id: string;
  name: string;
  schema: JsonSchema;
  root: JsonSchema;
  value: unknown;
  required: boolean;
  problems?: string[];
  onChange: (value: unknown) => void;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

function placeholderOf(schema: JsonSchema): string | undefined {
  const fallback = schema.default;
  if (fallback === undefined || fallback === null || typeof fallback === "object") return undefined;
  return String(fallback);
}

/** One config field, drawn from its JSON Schema, with its label, required mark, hint and the
 * draft's problems at it. */
export function SchemaField({ id, name, schema, root, value, required, problems = [], onChange }: SchemaFieldProps) {
  const kind = kindOf(schema, root);
  const label = labelOf(name, resolve(schema, root));
  const unit = unitOf(name) === label.toLowerCase() ? null : unitOf(name);
  const hintId = `${id}-hint`;
  const problemId = `${id}-problems`;
  const describedBy = [schema.description ? hintId : "", problems.length ? problemId : ""].filter(Boolean).join(" ") || undefined;
  const grouped = kind.kind === "object" || kind.kind === "objectList" || kind.kind === "condition" || kind.kind === "map" || kind.kind === "stringList";
  const labelText = (
    <>
      {label}
      {required && (
        <span className="required-mark" aria-hidden="true">
          {" "}*
        </span>
      )}
      {unit && kind.kind === "number" && <span className="field-unit"> ({unit})</span>}
    </>
  );
  return (
    <div
      className={problems.length ? "field field-invalid" : "field"}
      data-field={name}
      role={grouped ? "group" : undefined}
      aria-labelledby={grouped ? `${id}-label` : undefined}
    >
      {grouped ? (
        <span className="field-label" id={`${id}-label`}>
          {labelText}
        </span>
      ) : kind.kind === "boolean" ? null : (
        <label htmlFor={id}>
          {labelText}
        </label>
      )}
      <FieldInput id={id} name={name} label={label} kind={kind} schema={schema} root={root} value={value} required={required} describedBy={describedBy} invalid={problems.length > 0} onChange={onChange} labelNode={labelText} />
      {schema.description && (
        <p className="hint" id={hintId}>
          {schema.description}
        </p>
      )}
      {problems.length > 0 && (
        <ul className="field-problems" id={problemId} data-testid="field-problems">
          {problems.map((problem, index) => (
            <li key={index}>{problem}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

interface FieldInputProps {
  id: string;
  name: string;
  kind: ReturnType<typeof kindOf>;
  schema: JsonSchema;
  root: JsonSchema;
  value: unknown;
  required: boolean;
  describedBy: string | undefined;
  invalid: boolean;
  label: string;
  labelNode: React.ReactNode;
  onChange: (value: unknown) => void;
}

function FieldInput({ id, name, label, kind, schema, root, value, required, describedBy, invalid, labelNode, onChange }: FieldInputProps) {
  const { readOnly } = useFormContext();
  const common = { id, disabled: readOnly, "aria-describedby": describedBy, "aria-invalid": invalid || undefined, required };
  switch (kind.kind) {
    case "condition":
      return <ConditionEditor id={id} value={value} onChange={onChange} />;
    case "enum":
      return (
        <select {...common} value={typeof value === "string" ? value : ""} onChange={(e) => onChange(e.target.value === "" ? undefined : e.target.value)}>
          <option value="">{placeholderOf(schema) ? `Default (${placeholderOf(schema)})` : "Choose…"}</option>
          {kind.options.map((option) => (
            <option key={option} value={option}>
              {option}
            </option>
          ))}
        </select>
      );
    case "text":
      return (
        <TemplateInput
          id={id}
          value={typeof value === "string" ? value : value === undefined || value === null ? "" : JSON.stringify(value)}
          onChange={(text) => onChange(text === "" ? undefined : text)}
          multiline={isMultiline(name)}
          placeholder={placeholderOf(schema)}
          required={required}
          describedBy={describedBy}
          invalid={invalid}
          name={label}
        />
      );
    case "textOrNumber":
      return (
        <TemplateInput
          id={id}
          value={value === undefined || value === null ? "" : String(value)}
          onChange={(text) => onChange(text === "" ? undefined : /^-?\d+$/.test(text.trim()) ? Number(text) : text)}
          placeholder={placeholderOf(schema)}
          describedBy={describedBy}
          invalid={invalid}
          name={label}
        />
      );
    case "number":
      return <NumberInput common={common} integer={kind.integer} value={value} placeholder={placeholderOf(schema)} onChange={onChange} />;
    case "boolean":
      return (
        <label className="checkbox-field" htmlFor={id}>
          <input type="checkbox" {...common} checked={value === true || (value === undefined && schema.default === true)} onChange={(e) => onChange(e.target.checked)} />
          {labelNode}
        </label>
      );
    case "stringList":
      return <StringList id={id} label={label} value={Array.isArray(value) ? value : []} onChange={onChange} />;
    case "objectList":
      return <ObjectList id={id} item={kind.item} root={root} value={Array.isArray(value) ? value : []} onChange={onChange} />;
    case "map":
      return <KeyValueEditor id={id} value={isObject(value) ? value : {}} onChange={onChange} />;
    case "object":
      return <ObjectFields id={id} schema={kind.schema} root={root} value={isObject(value) ? value : {}} onChange={(next) => onChange(Object.keys(next).length ? next : undefined)} />;
    case "json":
      return <JsonInput common={common} value={value} onChange={onChange} />;
  }
}

function NumberInput({ common, integer, value, placeholder, onChange }: { common: Record<string, unknown>; integer: boolean; value: unknown; placeholder?: string; onChange: (value: unknown) => void }) {
  return (
    <input
      type="number"
      step={integer ? 1 : "any"}
      {...common}
      value={typeof value === "number" ? value : ""}
      placeholder={placeholder}
      onChange={(e) => onChange(e.target.value === "" ? undefined : Number(e.target.value))}
    />
  );
}

/** Any JSON value (an HTTP body): JSON when it parses, else kept as text. */
function JsonInput({ common, value, onChange }: { common: Record<string, unknown>; value: unknown; onChange: (value: unknown) => void }) {
  const initial = value === undefined || value === null ? "" : typeof value === "string" ? value : JSON.stringify(value, null, 2);
  const [text, setText] = useState(initial);
  useEffect(() => setText(initial), [initial]);
  return (
    <textarea
      rows={4}
      spellCheck={false}
      {...common}
      value={text}
      onChange={(e) => setText(e.target.value)}
      onBlur={() => {
        if (text.trim() === "") return onChange(undefined);
        try {
          onChange(JSON.parse(text));
        } catch {
          onChange(text);
        }
      }}
    />
  );
}

function StringList({ id, label, value, onChange }: { id: string; label: string; value: unknown[]; onChange: (value: unknown) => void }) {
  const { readOnly } = useFormContext();
  const write = (next: unknown[]) => onChange(next.length === 0 ? undefined : next);
  return (
    <div className="list-editor" id={id}>
      {value.map((item, index) => (
        <div className="list-row" key={index}>
          <TemplateInput
            id={`${id}-${index}`}
            name={`${label} ${index + 1}`}
            labelled={false}
            value={typeof item === "string" ? item : JSON.stringify(item)}
            onChange={(text) => write(value.map((old, i) => (i === index ? text : old)))}
          />
          {!readOnly && (
            <button type="button" className="button-quiet button-quiet-danger button-small" aria-label={`Remove item ${index + 1}`} onClick={() => write(value.filter((_, i) => i !== index))}>
              ×
            </button>
          )}
        </div>
      ))}
      {!readOnly && (
        <button type="button" className="button button-small" onClick={() => write([...value, ""])}>
          Add item
        </button>
      )}
    </div>
  );
}

function ObjectList({ id, item, root, value, onChange }: { id: string; item: JsonSchema; root: JsonSchema; value: unknown[]; onChange: (value: unknown) => void }) {
  const { readOnly } = useFormContext();
  const write = (next: unknown[]) => onChange(next.length === 0 ? undefined : next);
  const noun = nounOf(item.title);
  return (
    <div className="list-editor" id={id}>
      {value.map((entry, index) => (
        <fieldset className="list-item" key={index}>
          <legend>
            {noun} {index + 1}
          </legend>
          <ObjectFields id={`${id}-${index}`} schema={item} root={root} value={isObject(entry) ? entry : {}} onChange={(next) => write(value.map((old, i) => (i === index ? next : old)))} />
          {!readOnly && (
            <button type="button" className="button-quiet button-quiet-danger button-small" onClick={() => write(value.filter((_, i) => i !== index))}>
              Remove {noun} {index + 1}
            </button>
          )}
        </fieldset>
      ))}
      {!readOnly && (
        <button type="button" className="button button-small" onClick={() => write([...value, {}])}>
          Add {noun}
        </button>
      )}
    </div>
  );
}

/** The object with one field set (in its place) or, for `undefined`, removed. */
export function withField(value: Record<string, unknown>, name: string, next: unknown): Record<string, unknown> {
  if (next === undefined) {
    const { [name]: _gone, ...rest } = value;
    return rest;
  }
  return name in value ? Object.fromEntries(Object.entries(value).map(([key, old]) => [key, key === name ? next : old])) : { ...value, [name]: next };
}

/** The fields of an object schema; a field emptied is removed from the object. */
export function ObjectFields({ id, schema, root, value, onChange, problems }: { id: string; schema: JsonSchema; root: JsonSchema; value: Record<string, unknown>; onChange: (value: Record<string, unknown>) => void; problems?: ReadonlyMap<string, string[]> }) {
  const required = new Set(schema.required ?? []);
  return (
    <div className="object-fields">
      {Object.entries(schema.properties ?? {}).map(([name, property]) => (
        <SchemaField
          key={name}
          id={`${id}-${name}`}
          name={name}
          schema={property}
          root={root}
          value={value[name]}
          required={required.has(name)}
          problems={problems?.get(name)}
          onChange={(next) => onChange(withField(value, name, next))}
        />
      ))}
    </div>
  );
}
