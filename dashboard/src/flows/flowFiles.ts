import { api, call, type Flow, type Schemas } from "../api/client";

type FlowFile = Schemas["FlowCreate"];

const SETTINGS = ["name", "description", "enabled", "priority", "trigger", "business_hours", "cooldown_minutes"] as const;

/** The version a file of the flow carries: the published one, else the newest. */
async function fileVersion(flowId: string): Promise<Schemas["VersionOut"] | null> {
  const detail = await call(api.GET("/api/flows/{flow_id}", { params: { path: { flow_id: flowId } } }));
  const chosen = detail.published_version ?? detail.versions.reduce<number | null>((newest, v) => Math.max(newest ?? 0, v.number), null);
  if (chosen === null) return null;
  return call(api.GET("/api/flows/{flow_id}/versions/{number}", { params: { path: { flow_id: flowId, number: chosen } } }));
}

/** The flow as a file, in the shape of `examples/*.json` (a `POST /api/flows` body, as
 * `flowdeck flows export` writes it): its settings that are set, then its definition. */
export async function flowFile(flow: Flow): Promise<{ file: FlowFile; version: number | null }> {
  const file: Record<string, unknown> = {};
  for (const setting of SETTINGS) {
    if (flow[setting] !== null && flow[setting] !== undefined) file[setting] = flow[setting];
  }
  const version = await fileVersion(flow.id);
  if (version !== null) file.definition = version.definition;
  return { file: file as FlowFile, version: version?.number ?? null };
}

/** A copy of the flow under a new name, disabled (it must not compete for triggers until
 * someone turns it on) and without a priority (two flows cannot hold the same one). */
export async function duplicateFlow(flow: Flow): Promise<Schemas["FlowDetail"]> {
  const { file, version } = await flowFile(flow);
  const body: FlowFile = { ...file, name: `${flow.name} (copy)`.slice(0, 200), enabled: false, priority: null };
  if (version !== null) body.change_notes = `Copied from "${flow.name}" version ${version}`;
  return call(api.POST("/api/flows", { body }));
}

/** Creates the flow a file describes, exactly as `POST /api/flows` takes it. */
export async function importFlowFile(text: string): Promise<Schemas["FlowDetail"]> {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new Error(`The file is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new Error("The file is not a flow: it must be a JSON object, as examples/*.json are.");
  }
  return call(api.POST("/api/flows", { body: body as FlowFile }));
}

/** A file name for the flow: its name in lower case, words joined by underscores. */
export function fileName(flow: Flow): string {
  const stem = flow.name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
  return `${stem || "flow"}.json`;
}

/** Hands the browser a JSON file to save. */
export function saveJson(name: string, content: unknown): void {
  const blob = new Blob([JSON.stringify(content, null, 2) + "\n"], { type: "application/json" });
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
