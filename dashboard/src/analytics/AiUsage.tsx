import type { ReactNode } from "react";

import type { Schemas } from "../api/client";
import "./aiUsage.css";
import { count } from "./figures";

/** What the AI steps used, per flow or per step alike. */
type Usage = Omit<Schemas["FlowAiUsage"], "flow_id">;

export interface AiUsageRow extends Usage {
  key: string;
  label: ReactNode;
}

interface AiUsageProps {
  /** "Flow" or "Step": what each row is. */
  what: string;
  rows: AiUsageRow[];
  /** The costs' currency (the API's `currency`: FLOWDECK_PRICE_CURRENCY). */
  currency: string;
}

/** "$0.0031": costs of a few tokens need four decimals. */
function money(value: number, currency: string): string {
  try {
    return value.toLocaleString("en-GB", { style: "currency", currency, minimumFractionDigits: 2, maximumFractionDigits: 4 });
  } catch {
    return `${value.toLocaleString("en-GB", { maximumFractionDigits: 4 })} ${currency}`;
  }
}

function CostCell({ usage, currency }: { usage: Usage; currency: string }) {
  if (usage.priced_steps === 0) return <span className="rate">no prices</span>;
  return (
    <>
      {money(usage.cost, currency)}
      {usage.priced_steps < usage.steps && <span className="rate"> ({count(usage.priced_steps)} of {count(usage.steps)} priced)</span>}
    </>
  );
}

function total(rows: Usage[]): Usage {
  const sum = (pick: (usage: Usage) => number) => rows.reduce((acc, usage) => acc + pick(usage), 0);
  return {
    steps: sum((u) => u.steps),
    prompt_tokens: sum((u) => u.prompt_tokens),
    completion_tokens: sum((u) => u.completion_tokens),
    total_tokens: sum((u) => u.total_tokens),
    priced_steps: sum((u) => u.priced_steps),
    cost: sum((u) => u.cost),
  };
}

/** The tokens and cost of the AI steps (`ai_generate`, `ai_classify`) that succeeded in the
 * window, per flow or per step, most tokens first. */
export function AiUsage({ what, rows, currency }: AiUsageProps) {
  const sorted = [...rows].sort((a, b) => b.total_tokens - a.total_tokens);
  const all = total(rows);
  return (
    <section className="card ai-usage" aria-labelledby="ai-usage-title">
      <h2 id="ai-usage-title">AI usage</h2>
      {sorted.length === 0 ? (
        <p className="hint">
          No AI step succeeded in this window. The tokens of each <code>ai_generate</code> and <code>ai_classify</code> step that succeeds
          are counted here, and their cost when its connection has prices.
        </p>
      ) : (
        <>
          <p className="hint">
            Tokens of the AI steps that succeeded, as the model reported them; cost at the prices of each step's connection (a failed
            attempt's tokens are not counted).
          </p>
          <div className="table-frame">
            <table className="figures-table" aria-labelledby="ai-usage-title">
              <thead>
                <tr>
                  <th scope="col">{what}</th>
                  <th scope="col" className="col-number">
                    AI steps
                  </th>
                  <th scope="col" className="col-number">
                    Prompt tokens
                  </th>
                  <th scope="col" className="col-number">
                    Completion tokens
                  </th>
                  <th scope="col" className="col-number">
                    Total tokens
                  </th>
                  <th scope="col" className="col-number">
                    Cost
                  </th>
                </tr>
              </thead>
              <tbody>
                {sorted.map((row) => (
                  <tr key={row.key} data-ai-usage={row.key}>
                    <th scope="row">{row.label}</th>
                    <td className="col-number">{count(row.steps)}</td>
                    <td className="col-number">{count(row.prompt_tokens)}</td>
                    <td className="col-number">{count(row.completion_tokens)}</td>
                    <td className="col-number">{count(row.total_tokens)}</td>
                    <td className="col-number">
                      <CostCell usage={row} currency={currency} />
                    </td>
                  </tr>
                ))}
              </tbody>
              {sorted.length > 1 && (
                <tfoot>
                  <tr data-ai-usage="total">
                    <th scope="row">Total</th>
                    <td className="col-number">{count(all.steps)}</td>
                    <td className="col-number">{count(all.prompt_tokens)}</td>
                    <td className="col-number">{count(all.completion_tokens)}</td>
                    <td className="col-number">{count(all.total_tokens)}</td>
                    <td className="col-number">
                      <CostCell usage={all} currency={currency} />
                    </td>
                  </tr>
                </tfoot>
              )}
            </table>
          </div>
        </>
      )}
    </section>
  );
}
