import { useState, type FormEvent } from "react";

import { ApiProblem, api, call, messageOf, type Schemas } from "../api/client";
import { Dialog } from "../components/Dialog";
import { ProblemDetails } from "../components/ProblemDetails";

export type Campaign = Schemas["CampaignOut"];

interface CampaignDialogProps {
  /** null: a new campaign. */
  campaign: Campaign | null;
  onSaved: (campaign: Campaign, created: boolean) => void;
  onClose: () => void;
}

/** A campaign's name (unique in the tenant) and description, new or changed. */
export function CampaignDialog({ campaign, onSaved, onClose }: CampaignDialogProps) {
  const [name, setName] = useState(campaign?.name ?? "");
  const [description, setDescription] = useState(campaign?.description ?? "");
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setPending(true);
    setError(null);
    const body = { name: name.trim(), description: description.trim() || null };
    try {
      if (campaign === null) onSaved(await call(api.POST("/api/campaigns", { body })), true);
      else onSaved(await call(api.PATCH("/api/campaigns/{campaign_id}", { params: { path: { campaign_id: campaign.id } }, body })), false);
    } catch (problem) {
      setError(problem);
      setPending(false);
    }
  }

  return (
    <Dialog title={campaign === null ? "New campaign" : `Edit "${campaign.name}"`} onClose={onClose}>
      <form onSubmit={submit} className="form">
        <label htmlFor="campaign-name">Name</label>
        <input id="campaign-name" required maxLength={200} autoFocus value={name} onChange={(e) => setName(e.target.value)} />
        <label htmlFor="campaign-description">Description (optional)</label>
        <textarea id="campaign-description" rows={3} maxLength={10000} value={description} onChange={(e) => setDescription(e.target.value)} />
        <p className="hint">Runs, phone-number deployments and call recordings can name the campaign; keys may be limited to its recordings.</p>
        {error !== null && (
          <div className="form-error" role="alert">
            {messageOf(error)}
            {error instanceof ApiProblem && <ProblemDetails details={error.details} />}
          </div>
        )}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={pending || name.trim() === ""}>
            {pending ? "Saving…" : campaign === null ? "Create campaign" : "Save campaign"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
