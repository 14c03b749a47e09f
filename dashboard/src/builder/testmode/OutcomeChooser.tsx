import { portsOf } from "../../canvas/ports";
import type { FlowDefinition, StepInfo } from "../../canvas/types";

const CALL_PORTS = ["answered", "missed", "busy", "failed", "voicemail"];

interface OutcomeChooserProps {
  definition: FlowDefinition;
  steps: StepInfo[];
  outcomes: Record<string, string>;
  onChange: (outcomes: Record<string, string>) => void;
}

/** Simulated outcomes: how calls end, what a contact replies, and any step forced to a port. */
export function OutcomeChooser({ definition, steps, outcomes, onChange }: OutcomeChooserProps) {
  const byType = new Map(steps.map((step) => [step.type, step]));
  const hasCall = definition.nodes.some((node) => node.type === "ai_call");
  const hasReply = definition.nodes.some((node) => node.type === "send_and_wait");
  const callPorts = byType.get("ai_call")?.ports ?? CALL_PORTS;
  const branching = definition.nodes
    .map((node) => ({ node, ports: portsOf(node, byType.get(node.type)) }))
    // `call` and `reply` name the simulated call and reply above, whatever node bears that id.
    .filter(({ node, ports }) => ports.length > 1 && node.id !== "call" && node.id !== "reply");

  function set(key: string, value: string) {
    const next = { ...outcomes };
    if (value === "") delete next[key];
    else next[key] = value;
    onChange(next);
  }

  return (
    <fieldset className="test-section">
      <legend>Simulated outcomes</legend>
      {hasCall && (
        <>
          <label htmlFor="test-outcome-call">Calls</label>
          <select id="test-outcome-call" value={outcomes.call ?? ""} onChange={(e) => set("call", e.target.value)}>
            <option value="">answered (default)</option>
            {callPorts
              .filter((port) => port !== "answered")
              .map((port) => (
                <option key={port} value={port}>
                  {port}
                </option>
              ))}
          </select>
        </>
      )}
      {hasReply && (
        <>
          <label htmlFor="test-outcome-reply">The contact replies</label>
          <input
            id="test-outcome-reply"
            placeholder='a reply, or "timeout" for none'
            value={outcomes.reply ?? ""}
            onChange={(e) => set("reply", e.target.value)}
          />
        </>
      )}
      {!hasCall && !hasReply && branching.length === 0 && (
        <p className="hint">This flow has no step whose outcome can vary: it runs the same way for everyone.</p>
      )}
      {branching.length > 0 && (
        <details className="test-overrides" open={branching.some(({ node }) => node.id in outcomes)}>
          <summary>Force a step's outcome</summary>
          <p className="hint">Otherwise each step is simulated: messages are sent, conditions are evaluated for this contact.</p>
          <div className="override-grid">
            {branching.map(({ node, ports }) => (
              <div key={node.id} className="override-row">
                <label htmlFor={`test-force-${node.id}`}>
                  <code>{node.id}</code> {byType.get(node.type)?.label ?? node.type}
                </label>
                <select id={`test-force-${node.id}`} value={outcomes[node.id] ?? ""} onChange={(e) => set(node.id, e.target.value)}>
                  <option value="">as simulated</option>
                  {ports.map((port) => (
                    <option key={port} value={port}>
                      {port}
                    </option>
                  ))}
                </select>
              </div>
            ))}
          </div>
        </details>
      )}
    </fieldset>
  );
}
