import { ApiProblem, messageOf } from "../api/client";
import { ProblemDetails } from "./ProblemDetails";

interface ErrorStateProps {
  title: string;
  error: unknown;
  onRetry?: () => void;
  page?: boolean;
}

/** What a region shows when its data could not be loaded: the API's own message, and a retry. */
export function ErrorState({ title, error, onRetry, page = false }: ErrorStateProps) {
  return (
    <div className={page ? "state state-page state-error" : "state state-error"} role="alert">
      <strong>{title}</strong>
      <p>{messageOf(error)}</p>
      {error instanceof ApiProblem && <ProblemDetails details={error.details} />}
      {onRetry && (
        <button type="button" className="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}
