import { lazy } from "react";
import { BrowserRouter, Navigate, Route, Routes } from "react-router";

import { AppShell } from "./components/AppShell";
import { LazyPage } from "./components/LoadFailureBoundary";
import { NotFoundPage } from "./components/NotFoundPage";
import { FlowsPage } from "./flows/FlowsPage";
import { SessionProvider } from "./session/SessionProvider";

// The builder draws with @xyflow/react: it loads with its page, not with the first load.
const BuilderPage = lazy(() => import("./builder/BuilderPage").then((module) => ({ default: module.BuilderPage })));
// Analytics brings its chart library (uPlot): loaded with its pages too.
const AnalyticsPage = lazy(() => import("./analytics/AnalyticsPage"));
const FlowAnalyticsPage = lazy(() => import("./analytics/FlowAnalyticsPage"));

// Calls & people and an agent's own view, loaded with their pages.
const CallsPage = lazy(() => import("./calls/CallsPage"));
const AgentPage = lazy(() => import("./calls/AgentPage"));

// Executions: the list and a run's page (its canvas too) load with their pages.
const ExecutionsPage = lazy(() => import("./executions/ExecutionsPage").then((module) => ({ default: module.ExecutionsPage })));
const ExecutionDetailPage = lazy(() =>
  import("./executions/ExecutionDetailPage").then((module) => ({ default: module.ExecutionDetailPage })),
);

// Contacts, templates, the outbox, keys and campaigns: each loads with its page.
const ContactsPage = lazy(() => import("./contacts/ContactsPage").then((module) => ({ default: module.ContactsPage })));
const TemplatesPage = lazy(() => import("./templates/TemplatesPage").then((module) => ({ default: module.TemplatesPage })));
const OutboxPage = lazy(() => import("./outbox/OutboxPage").then((module) => ({ default: module.OutboxPage })));
const KeysPage = lazy(() => import("./keys/KeysPage").then((module) => ({ default: module.KeysPage })));
const CampaignsPage = lazy(() => import("./campaigns/CampaignsPage").then((module) => ({ default: module.CampaignsPage })));
const ConnectionsPage = lazy(() => import("./connections/ConnectionsPage").then((module) => ({ default: module.ConnectionsPage })));
/** The pages whose code loads with them: where, what they are called while loading, and
 * what says so should their code fail to load. */
const LAZY_PAGES = [
  { path: "/flows/:flowId", what: "The builder", loading: "Loading the builder…", Page: BuilderPage },
  { path: "/analytics", what: "The analytics page", loading: "Loading analytics…", Page: AnalyticsPage },
  { path: "/analytics/:flowId", what: "The flow's analytics", loading: "Loading analytics…", Page: FlowAnalyticsPage },
  { path: "/calls", what: "The calls and people page", loading: "Loading calls and people…", Page: CallsPage },
  { path: "/agents/:agentId", what: "The agent's page", loading: "Loading the agent…", Page: AgentPage },
  { path: "/executions", what: "The executions page", loading: "Loading executions…", Page: ExecutionsPage },
  {
    path: "/executions/:executionId",
    what: "The execution's page",
    loading: "Loading the execution…",
    Page: ExecutionDetailPage,
  },
  { path: "/contacts", what: "The contacts page", loading: "Loading contacts…", Page: ContactsPage },
  { path: "/templates", what: "The templates page", loading: "Loading templates…", Page: TemplatesPage },
  { path: "/outbox", what: "The outbox", loading: "Loading the outbox…", Page: OutboxPage },
  { path: "/keys", what: "The keys page", loading: "Loading keys…", Page: KeysPage },
  { path: "/campaigns", what: "The campaigns page", loading: "Loading campaigns…", Page: CampaignsPage },
  { path: "/connections", what: "The connections page", loading: "Loading connections…", Page: ConnectionsPage },
];

/** The dashboard: signed in first, then the pages inside the shell. */
export function App() {
  return (
    <BrowserRouter>
      <SessionProvider>
        <Routes>
          <Route element={<AppShell />}>
            <Route index element={<Navigate to="/flows" replace />} />
            <Route path="/flows" element={<FlowsPage />} />
            {LAZY_PAGES.map(({ path, what, loading, Page }) => (
              <Route
                key={path}
                path={path}
                element={
                  <LazyPage what={what} loading={loading}>
                    <Page />
                  </LazyPage>
                }
              />
            ))}
            <Route path="*" element={<NotFoundPage />} />
          </Route>
        </Routes>
      </SessionProvider>
    </BrowserRouter>
  );
}
