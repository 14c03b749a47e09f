import { useEffect, useRef, useState, type FormEvent } from "react";

import { ApiProblem, api, call, messageOf, type Schemas } from "../../api/client";
import { ErrorState } from "../../components/ErrorState";
import { LoadingState } from "../../components/LoadingState";
import type { DiagramOverlay } from "../../canvas/overlay";
import { asDefinition } from "../../canvas/types";
import { useSteps } from "../../canvas/useSteps";
import { Drawer } from "../versions/Drawer";
import { ContactChooser, type ContactChoice } from "./ContactChooser";
import { OutcomeChooser } from "./OutcomeChooser";
import { overlayOf, skipsOf, stepsOf } from "./result";
import { TestResult } from "./TestResult";

/** The flow variables typed as JSON: an object, `null` when none are given, or why not. */
function variablesOf(text: string): Record<string, unknown> | null | string {
  if (!text.trim()) return null;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    return "Variables are not valid JSON.";
  }
  return 'Variables must be a JSON object, like {"company": "Acme"}.';
}

type Outcome =
  | { status: "idle" }
  | { status: "running" }
  | { status: "refused"; error: unknown; problems: Schemas["DraftProblem"][] }
  | { status: "done"; run: Schemas["DryRunOut"] };

interface TestPanelProps {
  flow: Schemas["FlowDetail"];
  version: Schemas["VersionOut"] | null;
  definition: unknown;
  dirty: boolean;
  /** The version open in the editor once pending edits are saved. */
  latest: () => Schemas["VersionOut"] | null;
  whenSaved: (label: string, run: () => void) => void;
  waitingFor: string | null;
  onOverlay: (overlay: DiagramOverlay | null) => void;
  onClose: () => void;
}

/** Test mode: run the open version for a contact with simulated outcomes; nothing is sent.
 * The path is lit on the canvas and listed here step by step. */
export function TestPanel({ flow, version, definition, dirty, latest, whenSaved, waitingFor, onOverlay, onClose }: TestPanelProps) {
  const catalogue = useSteps();
  const [contact, setContact] = useState<ContactChoice>(null);
  const [outcomes, setOutcomes] = useState<Record<string, string>>({});
  const [startAt, setStartAt] = useState("");
  const [variables, setVariables] = useState("");
  const [outcome, setOutcome] = useState<Outcome>({ status: "idle" });
  const resultRef = useRef<HTMLDivElement>(null);

  // A finished run (or a refusal) is what the user waits for: bring it into view and focus
  // it (the Run button, disabled while running, has lost the focus).
  useEffect(() => {
    if (outcome.status !== "done" && outcome.status !== "refused") return;
    resultRef.current?.scrollIntoView({ block: "start" });
    resultRef.current?.focus({ preventScroll: true });
  }, [outcome]);

  useEffect(() => () => onOverlay(null), []);

  async function run() {
    const tested = latest();
    if (!tested || !contact || "invalid" in contact) return;
    setOutcome({ status: "running" });
    const body: Schemas["DryRunBody"] = { ...contact, outcomes, version: tested.number };
    if (startAt) body.start_at = new Date(startAt).toISOString();
    const given = variablesOf(variables);
    if (given !== null && typeof given === "object") body.variables = given;
    try {
      const result = await call(api.POST("/api/flows/{flow_id}/test", { params: { path: { flow_id: flow.id } }, body }));
      const steps = stepsOf(result);
      const skips = skipsOf(result);
      setOutcome({ status: "done", run: result });
      onOverlay(overlayOf(asDefinition(tested.definition), steps, skips));
    } catch (error) {
      onOverlay(null);
      const unfinished = error instanceof ApiProblem && error.status === 422;
      setOutcome({ status: "refused", error, problems: unfinished ? (tested.problems ?? []) : [] });
    }
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    whenSaved("testing", () => void run());
  }

  const badVariables = typeof variablesOf(variables) === "string" ? (variablesOf(variables) as string) : null;
  const invalid = contact && "invalid" in contact ? contact.invalid : badVariables;
  const ready = version !== null && contact !== null && invalid === null;

  return (
    <Drawer
      title="Test mode"
      onClose={() => {
        onOverlay(null);
        onClose();
      }}
    >
      <p className="hint">
        Runs {version ? `v${version.number}` : "the open version"} of "{flow.name}" for one contact with the outcomes you
        choose. Nothing is sent and no run is recorded.
      </p>
      {catalogue.resource.status === "loading" && <LoadingState label="Loading the step catalogue…" />}
      {catalogue.resource.status === "error" && (
        <ErrorState title="Could not load the step catalogue" error={catalogue.resource.error} onRetry={catalogue.retry} />
      )}
      {catalogue.resource.status === "ready" && (
        <form className="test-form" onSubmit={submit}>
          <ContactChooser onChange={setContact} />
          <OutcomeChooser
            definition={asDefinition(definition)}
            steps={catalogue.resource.data}
            outcomes={outcomes}
            onChange={setOutcomes}
          />
          <fieldset className="test-section">
            <legend>Start</legend>
            <label htmlFor="test-start-at">When the run starts (optional, your time)</label>
            <input id="test-start-at" type="datetime-local" value={startAt} onChange={(e) => setStartAt(e.target.value)} />
            <p className="hint">Default: now. Business hours and waits are counted from it.</p>
            <label htmlFor="test-variables">Flow variables (JSON, optional)</label>
            <textarea
              id="test-variables"
              rows={2}
              placeholder={`{"company": "Acme"} replaces the flow's own value`}
              value={variables}
              onChange={(e) => setVariables(e.target.value)}
            />
          </fieldset>
          {invalid && (
            <p className="form-error" role="alert">
              {invalid}
            </p>
          )}
          <div className="test-run-row">
            <button type="submit" className="button button-primary" disabled={!ready || outcome.status === "running" || waitingFor !== null}>
              {outcome.status === "running" ? "Running…" : "Run test"}
            </button>
            {waitingFor === "testing" && <span role="status">Saving your changes, then testing…</span>}
            {!contact && <span className="hint">Type a contact or pick one.</span>}
          </div>
        </form>
      )}
      <div ref={resultRef} className="test-outcome" tabIndex={-1}>
        {outcome.status === "running" && <LoadingState label="Running the test…" />}
        {outcome.status === "refused" && (
          <div className="test-refused">
            {/* The draft's own list below names every problem; the API's names only the first. */}
            <ErrorState
              title="This version cannot be tested"
              error={outcome.problems.length > 0 ? new Error(messageOf(outcome.error)) : outcome.error}
            />
            {outcome.problems.length > 0 && (
              <>
                <p>Fix these problems of the draft first:</p>
                <ul className="problem-details">
                  {outcome.problems.map((problem, index) => (
                    <li key={index}>
                      <code>{problem.path}</code> {problem.message}
                    </li>
                  ))}
                </ul>
              </>
            )}
          </div>
        )}
        {outcome.status === "done" && (
          <>
            {dirty && <p className="notice">The draft changed since this run: run the test again to see the new path.</p>}
            <TestResult
              run={outcome.run}
              steps={stepsOf(outcome.run)}
              skips={skipsOf(outcome.run)}
              catalogue={catalogue.resource.status === "ready" ? catalogue.resource.data : []}
            />
          </>
        )}
      </div>
    </Drawer>
  );
}
