import type { Schemas } from "../api/client";
import { BarList } from "./charts/BarList";
import { count } from "./figures";

const PORT_COLOURS: Record<string, string> = {
  answered: "#009e73",
  voicemail: "#56b4e9",
  missed: "#e69f00",
  busy: "#cc79a7",
  failed: "#d55e00",
};

/** How each AI call step's calls ended, per port (answered, missed, busy …). */
export function CallOutcomes({ outcomes }: { outcomes: Schemas["CallOutcome"][] }) {
  return (
    <section className="card" aria-labelledby="calls-title">
      <h2 id="calls-title">Call outcomes</h2>
      {outcomes.length === 0 ? (
        <p className="hint">No AI call finished in this window.</p>
      ) : (
        outcomes.map((outcome) => {
          const total = Object.values(outcome.ports).reduce((sum, n) => sum + n, 0);
          return (
            <div key={outcome.node_id} className="call-outcome" data-node-id={outcome.node_id}>
              <h3>
                <code>{outcome.node_id}</code> <span className="step-type">{count(total)} calls</span>
              </h3>
              <BarList
                label={`Outcomes of ${outcome.node_id}`}
                max={total}
                rows={Object.entries(outcome.ports).map(([port, calls]) => ({
                  key: port,
                  label: port,
                  segments: [{ label: port, value: calls, colour: PORT_COLOURS[port] ?? "#7a7f8c" }],
                  text: `${count(calls)} (${Math.round((calls / Math.max(1, total)) * 100)}%)`,
                }))}
              />
            </div>
          );
        })
      )}
    </section>
  );
}
