import { useState, type FormEvent } from "react";

import { api, call } from "../api/client";
import { CALL_OUTCOMES, type CallOutcome } from "./messages";

interface SimulateControlsProps {
  executionId: string;
  awaiting: "call" | "reply";
  label: string;
  onDone: (what: string) => void;
  onFailed: (action: string, error: unknown) => void;
}

const OUTCOME_LABELS: Record<CallOutcome, string> = {
  answered: "Answered",
  missed: "Missed",
  busy: "Busy",
  failed: "Failed",
  voicemail: "Voicemail",
};

/** How the sandbox call ended, or what the contact replied: told to the waiting execution. */
export function SimulateControls({ executionId, awaiting, label, onDone, onFailed }: SimulateControlsProps) {
  const [pending, setPending] = useState(false);
  const [reply, setReply] = useState("");

  async function simulate(body: { call: CallOutcome } | { reply: string }, what: string) {
    setPending(true);
    try {
      await call(api.POST("/api/executions/{execution_id}/simulate", { params: { path: { execution_id: executionId } }, body }));
      onDone(what);
    } catch (error) {
      onFailed(`Simulating ${what}`, error);
      setPending(false);
    }
  }

  function sendReply(event: FormEvent) {
    event.preventDefault();
    if (reply.trim()) void simulate({ reply: reply.trim() }, `the reply "${reply.trim()}"`);
  }

  if (awaiting === "call") {
    return (
      <div className="simulate" role="group" aria-label={`Simulate the outcome of ${label}`}>
        <span className="simulate-label">Simulate the outcome:</span>
        {CALL_OUTCOMES.map((outcome) => (
          <button key={outcome} type="button" className="button" disabled={pending} onClick={() => void simulate({ call: outcome }, `a ${outcome} call`)}>
            {OUTCOME_LABELS[outcome]}
          </button>
        ))}
      </div>
    );
  }
  return (
    <form className="simulate" onSubmit={sendReply} aria-label={`Simulate a reply to ${label}`}>
      <label className="simulate-label" htmlFor={`reply-${executionId}`}>
        Simulate a reply:
      </label>
      <input id={`reply-${executionId}`} maxLength={1600} placeholder="YES" value={reply} onChange={(e) => setReply(e.target.value)} />
      <button type="submit" className="button" disabled={pending || reply.trim() === ""}>
        Send reply
      </button>
    </form>
  );
}
