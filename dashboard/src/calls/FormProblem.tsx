import { ApiProblem, messageOf } from "../api/client";
import { ProblemDetails } from "../components/ProblemDetails";

/** Why a form was refused, in the API's words, with each problem at its path. */
export function FormProblem({ error }: { error: unknown }) {
  if (error === null) return null;
  return (
    <div className="form-error" role="alert">
      {messageOf(error)}
      {error instanceof ApiProblem && <ProblemDetails details={error.details} />}
    </div>
  );
}
