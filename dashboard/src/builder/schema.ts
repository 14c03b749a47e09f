// Reading a step's config JSON Schema (pydantic's output: $ref into $defs, anyOf with null)
// into the kinds of input the side panel draws.

export type JsonSchema = {
  type?: string | string[];
  title?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
};

export type FieldKind =
  | { kind: "condition" }
  | { kind: "enum"; options: string[] }
  | { kind: "text" }
  | { kind: "number"; integer: boolean }
  | { kind: "boolean" }
  | { kind: "textOrNumber" }
  | { kind: "stringList" }
  | { kind: "objectList"; item: JsonSchema }
  | { kind: "map" }
  | { kind: "object"; schema: JsonSchema }
  | { kind: "json" };

const CONDITION_DEFS = new Set(["Comparison", "AllOf", "AnyOf", "NotOf"]);

export function resolve(schema: JsonSchema, root: JsonSchema): JsonSchema {
  let current = schema;
  for (let depth = 0; current.$ref && depth < 20; depth++) {
    const name = current.$ref.replace(/^#\/\$defs\//, "");
    const target = root.$defs?.[name];
    if (!target) break;
    const { $ref: _ref, ...rest } = current;
    current = { ...target, ...rest };
  }
  return current;
}

function isConditionRef(schema: JsonSchema): boolean {
  return typeof schema.$ref === "string" && CONDITION_DEFS.has(schema.$ref.replace(/^#\/\$defs\//, ""));
}

/** The schema without its `null` option (optional fields are `anyOf [X, null]`). */
export function nonNull(schema: JsonSchema): JsonSchema[] {
  if (!schema.anyOf) return [schema];
  const { anyOf, ...rest } = schema;
  return anyOf.filter((option) => option.type !== "null").map((option) => ({ ...rest, ...option }));
}

export function kindOf(schema: JsonSchema, root: JsonSchema): FieldKind {
  const options = nonNull(schema);
  if (options.some(isConditionRef)) return { kind: "condition" };
  if (options.length > 1) {
    const types = options.map((option) => resolve(option, root).type);
    if (types.includes("string")) return types.includes("integer") || types.includes("number") ? { kind: "textOrNumber" } : { kind: "text" };
    return { kind: "json" };
  }
  const single = resolve(options[0] ?? {}, root);
  if (single.enum) return { kind: "enum", options: single.enum.map(String) };
  switch (single.type) {
    case "string":
      return { kind: "text" };
    case "integer":
    case "number":
      return { kind: "number", integer: single.type === "integer" };
    case "boolean":
      return { kind: "boolean" };
    case "array": {
      const item = resolve(single.items ?? {}, root);
      if (item.type === "object" && item.properties) return { kind: "objectList", item };
      if (item.type === "string" || !item.type) return { kind: "stringList" };
      return { kind: "json" };
    }
    case "object":
      if (single.properties && Object.keys(single.properties).length > 0) return { kind: "object", schema: single };
      return { kind: "map" };
    default:
      return { kind: "json" };
  }
}

const MULTILINE = new Set(["body", "html", "text", "prompt", "retry_prompt", "reason", "description"]);

export function isMultiline(name: string): boolean {
  return MULTILINE.has(name);
}

const UNITS: Record<string, string> = { seconds: "seconds", minutes: "minutes", hours: "hours", days: "days" };

/** The unit a number field counts in (durations), if its name says. */
export function unitOf(name: string): string | null {
  if (name.endsWith("_s")) return "seconds";
  if (name.endsWith("_minutes")) return "minutes";
  return UNITS[name] ?? null;
}

const ACRONYMS: Record<string, string> = { Id: "ID", Url: "URL", Html: "HTML", Http: "HTTP", Crm: "CRM", Ab: "A/B" };

/** A field's label: its schema's title (pydantic's "Agent Id", "Ring Timeout S"), else its
 * name, in words, acronyms in capitals and no unit suffix (the unit is shown apart). */
export function labelOf(name: string, schema: JsonSchema): string {
  const words = (schema.title ?? name.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase())).replace(/ S$/, "");
  return words.replace(/\b(Id|Url|Html|Http|Crm|Ab)\b/g, (word) => ACRONYMS[word] ?? word);
}

/** "SplitCase" → "case", "FormField" → "form field": what an item of a list is called. */
export function nounOf(title: string | undefined): string {
  const bare = (title ?? "item").replace(/^(Split|Ab)(?=[A-Z])/, "");
  return bare.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase() || "item";
}
