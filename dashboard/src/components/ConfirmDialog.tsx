import { useState, type ReactNode } from "react";

import { ApiProblem, messageOf } from "../api/client";
import { Dialog } from "./Dialog";
import { ProblemDetails } from "./ProblemDetails";

interface ConfirmDialogProps {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => Promise<void>;
  onClose: () => void;
}

/** "Are you sure?" for what cannot be undone; the API's reason shown if it refuses. */
export function ConfirmDialog({ title, children, confirmLabel, onConfirm, onClose }: ConfirmDialogProps) {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function confirm() {
    setPending(true);
    setError(null);
    try {
      await onConfirm();
    } catch (problem) {
      setError(problem);
      setPending(false);
    }
  }

  return (
    <Dialog title={title} onClose={onClose}>
      {children}
      {error !== null && (
        <div className="form-error" role="alert">
          {messageOf(error)}
          {error instanceof ApiProblem && <ProblemDetails details={error.details} />}
        </div>
      )}
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onClose} autoFocus>
          Cancel
        </button>
        <button type="button" className="button button-danger" onClick={confirm} disabled={pending}>
          {pending ? "Working…" : confirmLabel}
        </button>
      </div>
    </Dialog>
  );
}
