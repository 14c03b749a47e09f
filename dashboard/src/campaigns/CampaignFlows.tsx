import type { Flow } from "../api/client";
import type { Resource } from "../api/useResource";
import { ErrorState } from "../components/ErrorState";
import { CAMPAIGN_TRIGGERS } from "./assignments";
import { CampaignAssignments } from "./CampaignAssignments";
import type { Campaign } from "./CampaignDialog";

interface CampaignFlowsProps {
  campaigns: Campaign[];
  flows: Resource<Flow[]>;
  onRetryFlows: () => void;
  canEdit: boolean;
}

/** The flows assigned to each campaign's triggers, and how each trigger fires. */
export function CampaignFlows({ campaigns, flows, onRetryFlows, canEdit }: CampaignFlowsProps) {
  return (
    <section aria-labelledby="campaign-flows-title" className="campaign-flows">
      <h2 id="campaign-flows-title">Flows assigned to campaigns</h2>
      <p className="hint">A flow starts for a campaign once assigned to one of its triggers; per call, the best-priority active assignment whose conditions hold starts, if its flow is enabled and published.</p>
      <ul className="campaign-trigger-list" aria-label="How each trigger fires">
        {CAMPAIGN_TRIGGERS.map((trigger) => (
          <li key={trigger.value}>
            <strong>{trigger.name}</strong>: {trigger.how}
          </li>
        ))}
      </ul>
      {flows.status === "error" && <ErrorState title="The flows that may be assigned could not be loaded" error={flows.error} onRetry={onRetryFlows} />}
      {campaigns.map((campaign) => (
        <CampaignAssignments key={campaign.id} campaign={campaign} flows={flows.status === "ready" ? flows.data : null} canEdit={canEdit} />
      ))}
    </section>
  );
}
