import { lazy, Suspense } from "react";
import { BrowserRouter, Navigate, Route, Routes } from "react-router";

import { AppShell } from "./components/AppShell";
import { ComingSoonPage } from "./components/ComingSoonPage";
import { LoadingState } from "./components/LoadingState";
import { NotFoundPage } from "./components/NotFoundPage";
import { LoadFailureBoundary } from "./executions/LoadFailureBoundary";
import { FlowsPage } from "./flows/FlowsPage";
import { PAGES } from "./pages";
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
const RECORD_PAGES = [
  { path: "/contacts", label: "contacts", Page: ContactsPage },
  { path: "/templates", label: "templates", Page: TemplatesPage },
  { path: "/outbox", label: "the outbox", Page: OutboxPage },
  { path: "/keys", label: "keys", Page: KeysPage },
  { path: "/campaigns", label: "campaigns", Page: CampaignsPage },
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
            <Route
              path="/flows/:flowId"
              element={
                <Suspense fallback={<LoadingState label="Loading the builder…" page />}>
                  <BuilderPage />
                </Suspense>
              }
            />
            <Route
              path="/analytics"
              element={
                <Suspense fallback={<LoadingState label="Loading analytics…" page />}>
                  <AnalyticsPage />
                </Suspense>
              }
            />
            <Route
              path="/analytics/:flowId"
              element={
                <Suspense fallback={<LoadingState label="Loading analytics…" page />}>
                  <FlowAnalyticsPage />
                </Suspense>
              }
            />
            <Route
              path="/calls"
              element={
                <Suspense fallback={<LoadingState label="Loading calls and people…" page />}>
                  <CallsPage />
                </Suspense>
              }
            />
            <Route
              path="/agents/:agentId"
              element={
                <Suspense fallback={<LoadingState label="Loading the agent…" page />}>
                  <AgentPage />
                </Suspense>
              }
            />
            <Route
              path="/executions"
              element={
                <LoadFailureBoundary what="The executions page">
                  <Suspense fallback={<LoadingState label="Loading executions…" page />}>
                    <ExecutionsPage />
                  </Suspense>
                </LoadFailureBoundary>
              }
            />
            <Route
              path="/executions/:executionId"
              element={
                <LoadFailureBoundary what="The execution's page">
                  <Suspense fallback={<LoadingState label="Loading the execution…" page />}>
                    <ExecutionDetailPage />
                  </Suspense>
                </LoadFailureBoundary>
              }
            />
            {RECORD_PAGES.map(({ path, label, Page }) => (
              <Route
                key={path}
                path={path}
                element={
                  <Suspense fallback={<LoadingState label={`Loading ${label}…`} page />}>
                    <Page />
                  </Suspense>
                }
              />
            ))}
            {PAGES.filter((page) => !page.ready).map((page) => (
              <Route key={page.path} path={page.path} element={<ComingSoonPage page={page} />} />
            ))}
            <Route path="*" element={<NotFoundPage />} />
          </Route>
        </Routes>
      </SessionProvider>
    </BrowserRouter>
  );
}
