import { useState } from "react";

import { isError, type PlacedProblem } from "./problems";

/** "N problems" in the toolbar; open, the list of them, each step's leading to the step. */
export function ProblemList({ placed, onShow }: { placed: PlacedProblem[]; onShow: (nodeId: string) => void }) {
  const [open, setOpen] = useState(false);
  const errors = placed.filter((p) => isError(p.problem)).length;
  const warnings = placed.length - errors;
  if (placed.length === 0) {
    return (
      <span className="problem-count problem-count-none" data-testid="problem-count">
        No problems
      </span>
    );
  }
  const text = `${placed.length} problem${placed.length === 1 ? "" : "s"}`;
  return (
    <div className="problem-list-wrap">
      <button
        type="button"
        className={errors > 0 ? "button button-small problem-count problem-count-errors" : "button button-small problem-count"}
        aria-expanded={open}
        aria-controls="problem-list"
        data-testid="problem-count"
        title={`${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}`}
        onClick={() => setOpen((shown) => !shown)}
      >
        {text}
      </button>
      {open && (
        <ul className="problem-list" id="problem-list" onKeyDown={(event) => event.key === "Escape" && setOpen(false)}>
          {placed.map(({ problem, nodeId, field }, index) => (
            <li key={index} className={isError(problem) ? "problem-error" : "problem-warning"}>
              <span className="problem-severity">{problem.severity}</span>{" "}
              {nodeId ? (
                <button
                  type="button"
                  className="button-link"
                  onClick={() => {
                    onShow(nodeId);
                    setOpen(false);
                  }}
                >
                  {nodeId}
                  {field ? ` · ${field}` : ""}
                </button>
              ) : (
                <code>{problem.path}</code>
              )}
              : {problem.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
