import type { Schemas } from "../api/client";
import { BarList } from "./charts/BarList";
import { count, duration } from "./figures";

/** The mean time each step took (its finished runs), longest first: waits show their wait. */
export function StepTimes({ times, stepLabel }: { times: Schemas["StepTime"][]; stepLabel: (nodeId: string) => string }) {
  const sorted = [...times].sort((a, b) => b.mean_ms - a.mean_ms);
  return (
    <section className="card" aria-labelledby="times-title">
      <h2 id="times-title">Mean time per step</h2>
      {sorted.length === 0 ? (
        <p className="hint">No step finished in this window.</p>
      ) : (
        <BarList
          label="Mean time per step"
          rows={sorted.map((time) => ({
            key: time.node_id,
            label: (
              <>
                <code>{time.node_id}</code> <span className="step-type">{stepLabel(time.node_id)}</span>
              </>
            ),
            segments: [{ label: "mean", value: time.mean_ms, colour: "#0072b2" }],
            text: `${duration(time.mean_ms)} · ${count(time.steps)} ${time.steps === 1 ? "step" : "steps"}`,
          }))}
        />
      )}
    </section>
  );
}
