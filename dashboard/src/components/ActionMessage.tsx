import { Link } from "react-router";

import { ApiProblem, messageOf } from "../api/client";
import { ProblemDetails } from "./ProblemDetails";

/** A done outcome may point to where its result is (the flow just created, in the builder). */
export type Outcome =
  | { kind: "done"; text: string; link?: { to: string; label: string } }
  | { kind: "failed"; action: string; error: unknown };

/** The outcome of the last thing the user did on a page: done, or the API's reason why not. */
export function ActionMessage({ outcome, onDismiss }: { outcome: Outcome | null; onDismiss: () => void }) {
  return (
    <div aria-live="polite" className="action-message-region">
      {outcome && (
        <div className={outcome.kind === "done" ? "action-message" : "action-message action-message-failed"} role={outcome.kind === "failed" ? "alert" : "status"}>
          {outcome.kind === "done" ? (
            <span>
              {outcome.text}
              {outcome.link && (
                <>
                  {" "}
                  <Link to={outcome.link.to}>{outcome.link.label}</Link>
                </>
              )}
            </span>
          ) : (
            <div>
              <strong>{outcome.action} failed:</strong> {messageOf(outcome.error)}
              {outcome.error instanceof ApiProblem && <ProblemDetails details={outcome.error.details} />}
            </div>
          )}
          <button type="button" className="button-quiet" onClick={onDismiss} aria-label="Dismiss message">
            ×
          </button>
        </div>
      )}
    </div>
  );
}
