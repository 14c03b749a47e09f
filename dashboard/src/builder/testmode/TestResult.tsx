import type { Schemas } from "../../api/client";
import type { StepInfo } from "../../canvas/types";
import { shown } from "../versions/format";
import type { TestSkip, TestStep } from "./result";

const ENDINGS: Record<string, string> = {
  completed: "The run completes",
  failed: "The run fails",
  skipped: "The run is skipped",
  incomplete: "The run stops unfinished",
};

function moment(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

function money(amount: number, currency: string): string {
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency, maximumFractionDigits: 4 }).format(amount);
  } catch {
    return `${amount} ${currency}`;
  }
}

function Rendered({ rendered }: { rendered: Record<string, unknown> }) {
  const entries = Object.entries(rendered).filter(([, value]) => value !== null && value !== undefined && value !== "");
  if (entries.length === 0) return null;
  return (
    <dl className="rendered">
      {entries.map(([key, value]) => (
        <div key={key}>
          <dt>{key}</dt>
          <dd>
            <pre>{shown(value)}</pre>
          </dd>
        </div>
      ))}
    </dl>
  );
}

function Match({ match }: { match: Record<string, unknown> }) {
  if (match.trigger !== "lead_created") return null;
  const reason = typeof match.reason === "string" ? match.reason : "";
  const better = Array.isArray(match.better_flows) ? match.better_flows.length : 0;
  let verdict: string;
  if (match.matches !== true) verdict = `A new lead like this would not enter this flow${reason ? `: ${reason}` : "."}`;
  else if (better > 0) verdict = `A new lead like this matches, but ${better} flow${better === 1 ? "" : "s"} of higher priority would take it.`;
  else if (match.would_run === true) verdict = "A new lead like this would enter this flow.";
  else verdict = "A new lead like this matches the trigger; the flow runs once it is enabled and published.";
  return <p className="test-match">{verdict}</p>;
}

interface TestResultProps {
  run: Schemas["DryRunOut"];
  steps: TestStep[];
  skips: TestSkip[];
  catalogue: StepInfo[];
}

/** What the dry run found: how it ends, each step with what it would send, waits, skips, cost. */
export function TestResult({ run, steps, skips, catalogue }: TestResultProps) {
  const labels = new Map(catalogue.map((step) => [step.type, step.label]));
  const { cost } = run;
  return (
    <section className="test-result" aria-labelledby="test-result-title">
      <h3 id="test-result-title">
        {ENDINGS[run.ends] ?? `The run ends: ${run.ends}`} after {steps.length} step{steps.length === 1 ? "" : "s"}
      </h3>
      {run.reason && <p className="hint">{run.reason}</p>}
      <Match match={run.match} />
      {skips.length > 0 && (
        <ul className="test-skips" aria-label="Skips">
          {skips.map((skip, index) => (
            <li key={index}>
              <strong>Skipped{skip.nodeId ? ` ${skip.nodeId}` : ""}:</strong> {skip.reason}
              {skip.waitsUntil && <> (until {moment(skip.waitsUntil)})</>}
            </li>
          ))}
        </ul>
      )}
      <ol className="test-steps" aria-label="Steps of the test run">
        {steps.map((step, index) => (
          <li key={index} className={step.error ? "test-step test-step-failed" : step.skipped ? "test-step test-step-skipped" : "test-step"}>
            <div className="test-step-head">
              <span className="test-step-badge" aria-hidden="true">
                {index + 1}
              </span>
              <code>{step.nodeId}</code>
              <span className="test-step-type">{labels.get(step.type) ?? step.type}</span>
              {step.port && <span className="test-step-port">→ {step.port}</span>}
            </div>
            {step.skipped && <p className="test-step-note">Skipped: {step.skipped}</p>}
            {step.error && (
              <p className="test-step-note test-step-error">
                {step.error}
                {step.missingVariable && (
                  <>
                    {" "}
                    (missing <code>{step.missingVariable}</code>)
                  </>
                )}
              </p>
            )}
            {step.waitsUntil && <p className="test-step-note">Waits until {moment(step.waitsUntil)}</p>}
            {step.rendered && <Rendered rendered={step.rendered} />}
          </li>
        ))}
      </ol>
      <section className="test-cost" aria-label="Cost estimate">
        <h4>Cost estimate: {money(cost.total, cost.currency)}</h4>
        <ul>
          <li>
            SMS: {cost.counts.sms ?? 0} · {money(cost.sms, cost.currency)}
          </li>
          <li>
            WhatsApp: {cost.counts.whatsapp ?? 0} · {money(cost.whatsapp, cost.currency)}
          </li>
          <li>
            Email: {cost.counts.email ?? 0} · {money(cost.email, cost.currency)}
          </li>
          <li>
            Call minutes: {cost.counts.voice_minutes ?? 0} · {money(cost.voice, cost.currency)}
          </li>
        </ul>
        <p className="hint">Nothing was sent and no run was started.</p>
      </section>
    </section>
  );
}
