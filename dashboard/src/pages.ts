/** The dashboard's pages, in the order the navigation shows them. `ready` pages are built;
 * the others show what they will hold and where the API already has it. */
export interface PageEntry {
  path: string;
  label: string;
  ready: boolean;
  purpose: string;
  api: string;
}

export const PAGES: PageEntry[] = [
  { path: "/flows", label: "Flows", ready: true, purpose: "Your flows, their triggers and lead priorities.", api: "/api/flows" },
  {
    path: "/executions",
    label: "Executions",
    ready: true,
    purpose: "Every run of every flow, filtered and updating live, with each step's timeline.",
    api: "/api/executions",
  },
  {
    path: "/analytics",
    label: "Analytics",
    ready: true,
    purpose: "Runs per day, success rates, and where contacts drop off in each flow.",
    api: "/api/analytics/overview",
  },
  {
    path: "/calls",
    label: "Calls & people",
    ready: true,
    purpose: "Phone numbers and their deployments, departments, agents and their queues.",
    api: "/api/phone-numbers, /api/departments, /api/agents",
  },
  { path: "/contacts", label: "Contacts", ready: true, purpose: "Search contacts, tags and do-not-contact.", api: "/api/contacts" },
  { path: "/templates", label: "Templates", ready: true, purpose: "Message templates with a live preview.", api: "/api/templates" },
  {
    path: "/outbox",
    label: "Outbox",
    ready: true,
    purpose: "What the sandbox providers would have sent, with buttons to simulate outcomes.",
    api: "/api/outbox",
  },
  { path: "/keys", label: "Keys", ready: true, purpose: "Create API keys (shown once) and revoke them.", api: "/api/keys" },
  { path: "/campaigns", label: "Campaigns", ready: true, purpose: "Campaigns and the flows they trigger.", api: "/api/campaigns" },
];
