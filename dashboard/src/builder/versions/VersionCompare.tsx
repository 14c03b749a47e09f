import { useState } from "react";

import { api, call, type Schemas } from "../../api/client";
import { ErrorState } from "../../components/ErrorState";
import { LoadingState } from "../../components/LoadingState";
import { VersionDiffView } from "./VersionDiffView";

type Compared =
  | { status: "idle" }
  | { status: "loading" }
  | { status: "error"; error: unknown }
  | { status: "ready"; diff: Schemas["VersionDiff"]; before: Map<string, unknown>; after: Map<string, unknown> };

function nodesById(definition: Record<string, unknown>): Map<string, unknown> {
  const nodes = Array.isArray(definition.nodes) ? (definition.nodes as unknown[]) : [];
  const byId = new Map<string, unknown>();
  for (const node of nodes) {
    if (typeof node === "object" && node !== null && typeof (node as { id?: unknown }).id === "string") {
      byId.set((node as { id: string }).id, node);
    }
  }
  return byId;
}

async function compare(flowId: string, a: number, b: number): Promise<Compared> {
  const path = { flow_id: flowId };
  const [diff, before, after] = await Promise.all([
    call(api.GET("/api/flows/{flow_id}/versions/{a}/diff/{b}", { params: { path: { ...path, a, b } } })),
    call(api.GET("/api/flows/{flow_id}/versions/{number}", { params: { path: { ...path, number: a } } })),
    call(api.GET("/api/flows/{flow_id}/versions/{number}", { params: { path: { ...path, number: b } } })),
  ]);
  return { status: "ready", diff, before: nodesById(before.definition), after: nodesById(after.definition) };
}

/** Pick two versions and see what changed between them, side by side. */
export function VersionCompare({ flowId, numbers }: { flowId: string; numbers: number[] }) {
  const newest = numbers[0] ?? 1;
  const [from, setFrom] = useState(numbers[1] ?? newest);
  const [to, setTo] = useState(newest);
  const [compared, setCompared] = useState<Compared>({ status: "idle" });

  function run() {
    setCompared({ status: "loading" });
    compare(flowId, from, to).then(setCompared, (error: unknown) => setCompared({ status: "error", error }));
  }

  return (
    <section className="version-compare" aria-labelledby="compare-title">
      <h3 id="compare-title">Compare versions</h3>
      <div className="compare-pickers">
        <div className="field">
          <label htmlFor="compare-from">From</label>
          <select id="compare-from" value={from} onChange={(e) => setFrom(Number(e.target.value))}>
            {numbers.map((n) => (
              <option key={n} value={n}>
                v{n}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="compare-to">To</label>
          <select id="compare-to" value={to} onChange={(e) => setTo(Number(e.target.value))}>
            {numbers.map((n) => (
              <option key={n} value={n}>
                v{n}
              </option>
            ))}
          </select>
        </div>
        <button type="button" className="button" onClick={run} disabled={compared.status === "loading"}>
          Compare
        </button>
      </div>
      {compared.status === "loading" && <LoadingState label={`Comparing v${from} with v${to}…`} />}
      {compared.status === "error" && <ErrorState title="These versions could not be compared" error={compared.error} onRetry={run} />}
      {compared.status === "ready" && <VersionDiffView diff={compared.diff} before={compared.before} after={compared.after} />}
    </section>
  );
}
