import { messageOf } from "../api/client";
import { ProblemDetails } from "../components/ProblemDetails";
import { unplacedProblems } from "./connections";

/** Why the API refused a form: its message, with the problems no field shows listed. */
export function FormProblems({ error, placed }: { error: unknown; placed: readonly string[] }) {
  if (error === null) return null;
  return (
    <div className="form-error" role="alert">
      {messageOf(error)}
      <ProblemDetails details={unplacedProblems(error, placed)} />
    </div>
  );
}
