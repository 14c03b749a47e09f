import type { Schemas } from "../api/client";
import { BarList } from "./charts/BarList";
import { count, percent } from "./figures";
import { ALPHA, completionVerdict } from "./significance";

const VARIANT_COLOURS = ["#0072b2", "#cc79a7", "#e69f00", "#009e73", "#56b4e9", "#d55e00"];

function VerdictLine({ variants }: { variants: Schemas["Variant"][] }) {
  const verdict = completionVerdict(variants);
  if (verdict.kind === "too_few") return <p className="verdict verdict-unknown">Significance cannot be judged: {verdict.reason}.</p>;
  const p = verdict.p < 0.001 ? "p < 0.001" : `p = ${verdict.p.toFixed(3)}`;
  return verdict.significant ? (
    <p className="verdict verdict-significant">
      Significant: the variants complete at different rates ({p}, chi-square with {verdict.degrees} degree
      {verdict.degrees === 1 ? "" : "s"} of freedom).
    </p>
  ) : (
    <p className="verdict verdict-unknown">
      Not significant at {Math.round((1 - ALPHA) * 100)}%: the difference may be chance ({p}).
    </p>
  );
}

/** Each A/B split's variants: runs that took it, how many completed, and whether the difference
 * in completion is more than chance (computed here from the API's counts). */
export function AbResults({ results }: { results: Schemas["AbResult"][] }) {
  return (
    <section className="card" aria-labelledby="ab-title">
      <h2 id="ab-title">A/B results</h2>
      {results.length === 0 ? (
        <p className="hint">No run went through an A/B split in this window.</p>
      ) : (
        results.map((result) => (
          <div key={result.node_id} className="ab-split" data-node-id={result.node_id}>
            <h3>
              Split <code>{result.node_id}</code>
            </h3>
            <table className="figures-table ab-table" aria-label={`Variants of ${result.node_id}`}>
              <thead>
                <tr>
                  <th scope="col">Variant</th>
                  <th scope="col" className="col-number">
                    Runs
                  </th>
                  <th scope="col" className="col-number">
                    Completed
                  </th>
                  <th scope="col" className="col-number">
                    Completion rate
                  </th>
                </tr>
              </thead>
              <tbody>
                {result.variants.map((variant) => (
                  <tr key={variant.variant} data-variant={variant.variant}>
                    <th scope="row">{variant.variant}</th>
                    <td className="col-number" data-testid="runs">
                      {count(variant.executions)}
                    </td>
                    <td className="col-number" data-testid="completed">
                      {count(variant.completed)}
                    </td>
                    <td className="col-number" data-testid="rate">
                      {percent(variant.completion_rate)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <BarList
              label={`Completion rate per variant of ${result.node_id}`}
              max={1}
              rows={result.variants.map((variant, index) => ({
                key: variant.variant,
                label: variant.variant,
                segments: [{ label: "completion rate", value: variant.completion_rate, colour: VARIANT_COLOURS[index % VARIANT_COLOURS.length]! }],
                text: percent(variant.completion_rate),
              }))}
            />
            <VerdictLine variants={result.variants} />
          </div>
        ))
      )}
    </section>
  );
}
