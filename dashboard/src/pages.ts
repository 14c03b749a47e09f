/** The dashboard's pages, in the order the navigation shows them: what each is for, and where
 * the API has what it shows. */
export interface PageEntry {
  path: string;
  label: string;
  /** Other paths that belong to this page (an agent's page belongs to Calls & people). */
  also?: string[];
  purpose: string;
  api: string;
}

export const PAGES: PageEntry[] = [
  { path: "/flows", label: "Flows", purpose: "Your flows, their triggers and lead priorities.", api: "/api/flows" },
  {
    path: "/executions",
    label: "Executions",
   
    purpose: "Every run of every flow, filtered and updating live, with each step's timeline.",
    api: "/api/executions",
  },
  {
    path: "/analytics",
    label: "Analytics",
   
    purpose: "Runs per day, success rates, and where contacts drop off in each flow.",
    api: "/api/analytics/overview",
  },
  {
    path: "/calls",
    label: "Calls & people",
    also: ["/agents"],
   
    purpose: "Phone numbers and their deployments, departments, agents and their queues.",
    api: "/api/phone-numbers, /api/departments, /api/agents",
  },
  { path: "/contacts", label: "Contacts", purpose: "Search contacts, tags and do-not-contact.", api: "/api/contacts" },
  { path: "/templates", label: "Templates", purpose: "Message templates with a live preview.", api: "/api/templates" },
  {
    path: "/connections",
    label: "Connections",
    purpose: "Credentials that steps name, so no secret is written into a flow; test and re-key them.",
    api: "/api/connections",
  },
  {
    path: "/outbox",
    label: "Outbox",
   
    purpose: "What the sandbox providers would have sent, with buttons to simulate outcomes.",
    api: "/api/outbox",
  },
  { path: "/keys", label: "Keys", purpose: "Create API keys (shown once) and revoke them.", api: "/api/keys" },
  { path: "/campaigns", label: "Campaigns", purpose: "Campaigns and the flows they trigger.", api: "/api/campaigns" },
];
