import { messageOf } from "../api/client";
import type { SaveStatus as Status } from "./useAutosave";

const sentence = (text: string) => (/[.!?]$/.test(text) ? text : `${text}.`);

/** Where the draft stands: saving, saved, or why it was not (the edits stay). */
export function SaveStatus({ status, canEdit, onRetry }: { status: Status; canEdit: boolean; onRetry: () => void }) {
  if (!canEdit) return <span className="save-status" data-testid="save-status">Read only</span>;
  switch (status.kind) {
    case "idle":
      return <span className="save-status" data-testid="save-status" role="status">All changes saved</span>;
    case "pending":
    case "saving":
      return <span className="save-status save-status-busy" data-testid="save-status" role="status">Saving…</span>;
    case "saved":
      return <span className="save-status save-status-saved" data-testid="save-status" role="status">Saved</span>;
    case "failed":
      return (
        <span className="save-status save-status-failed" data-testid="save-status" role="alert">
          Not saved: {sentence(messageOf(status.error))} Your edits are kept.{" "}
          <button type="button" className="button button-small" onClick={onRetry}>
            {status.conflict ? "Save as a new draft" : "Try again"}
          </button>
        </span>
      );
  }
}
