import type { FlowNode, StepInfo } from "../canvas";
import { ExecutionStatusBadge } from "./ExecutionStatusBadge";
import { duration, fullTime, shortTime, type ExecutionStep } from "./format";
import { inputSummary } from "./stepSummary";
import { ValueTree } from "./ValueTree";

interface ExecutionTimelineProps {
  steps: ExecutionStep[];
  nodes: ReadonlyMap<string, FlowNode>;
  catalogue: ReadonlyMap<string, StepInfo>;
  now: number;
  selected: string | null;
  onSelect: (nodeId: string) => void;
}

function until(step: ExecutionStep): string | null {
  const value = step.result?.until;
  return typeof value === "string" ? value : null;
}

/** What a waiting step waits for, in words: a time, an event, a person. */
function waitingFor(step: ExecutionStep, now: number): string | null {
  if (step.status !== "waiting") return null;
  const end = until(step);
  if (end) {
    const left = Date.parse(end) - now;
    return `Waits until ${fullTime(end)}${left > 0 ? ` (in ${duration(left)})` : ""}`;
  }
  const result = step.result ?? {};
  if (typeof result.title === "string") return `Waiting for ${typeof result.assignee === "string" && result.assignee ? result.assignee : "someone"} to complete “${result.title}”`;
  if (typeof result.event === "string") return `Waiting for the event “${result.event}”`;
  return "Waiting";
}

/** Each step the run took, in order: type and id, what it was asked, how it ended, when,
 * for how long, after how many attempts. */
export function ExecutionTimeline({ steps, nodes, catalogue, now, selected, onSelect }: ExecutionTimelineProps) {
  return (
    <ol className="timeline" aria-label="Timeline">
      {steps.map((step) => {
        const node = nodes.get(step.node_id);
        const label = catalogue.get(step.node_type)?.label ?? step.node_type;
        const summary = inputSummary(node);
        const waiting = waitingFor(step, now);
        const ended = step.status !== "waiting" && step.status !== "running";
        const waited = ended ? until(step) : null;
        const took = step.duration_ms ?? (step.ended_at ? null : now - Date.parse(step.started_at));
        const result = step.result && Object.keys(step.result).length > 0 ? step.result : null;
        return (
          <li
            key={step.seq}
            className={`timeline-step timeline-${step.status}${selected === step.node_id ? " timeline-selected" : ""}`}
            data-node-id={step.node_id}
            data-status={step.status}
          >
            <div className="timeline-head">
              <span className="timeline-seq" aria-hidden="true">
                {step.seq}
              </span>
              <button type="button" className="button-link timeline-node" onClick={() => onSelect(step.node_id)} aria-pressed={selected === step.node_id}>
                <code>{step.node_id}</code>
              </button>
              <span className="timeline-type">{label}</span>
              <ExecutionStatusBadge status={step.status} />
              {step.port && (
                <span className="timeline-port" title="The port it left by">
                  → {step.port}
                </span>
              )}
              <span className="timeline-time">
                <time dateTime={step.started_at} title={`Started ${fullTime(step.started_at)}${step.ended_at ? `, ended ${fullTime(step.ended_at)}` : ""}`}>
                  {shortTime(step.started_at)}
                </time>
                {" · "}
                <span data-testid="step-duration">{duration(took)}</span>
                {!step.ended_at && <span className="muted"> so far</span>}
                <span className={step.attempt > 1 ? "timeline-attempts timeline-retried" : "timeline-attempts"}>
                  {" · "}
                  {step.attempt} attempt{step.attempt === 1 ? "" : "s"}
                </span>
              </span>
            </div>
            {summary && (
              <p className="timeline-input">
                <span className="timeline-label">Input</span> {summary}
              </p>
            )}
            {waiting && <p className="timeline-wait">{waiting}</p>}
            {waited && <p className="timeline-input">Waited until {fullTime(waited)}</p>}
            {step.error && (
              <p className="timeline-error" role="note">
                <span className="timeline-label">Error</span> {step.error}
              </p>
            )}
            {step.skip_reason && (
              <p className="timeline-input">
                <span className="timeline-label">Skipped</span> {step.skip_reason}
              </p>
            )}
            {result && (
              <details className="timeline-result">
                <summary>Result</summary>
                <ValueTree value={result} />
              </details>
            )}
          </li>
        );
      })}
    </ol>
  );
}
