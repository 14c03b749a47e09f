import { BrowserRouter, Navigate, Route, Routes } from "react-router";

import { AppShell } from "./components/AppShell";
import { ComingSoonPage } from "./components/ComingSoonPage";
import { NotFoundPage } from "./components/NotFoundPage";
import { FlowsPage } from "./flows/FlowsPage";
import { PAGES } from "./pages";
import { SessionProvider } from "./session/SessionProvider";

const BUILDER = {
  label: "Flow builder",
  purpose: "The canvas where a flow's steps are drawn, tested and published.",
  api: "/api/flows/{id}/versions",
};

/** The dashboard: signed in first, then the pages inside the shell. */
export function App() {
  return (
    <BrowserRouter>
      <SessionProvider>
        <Routes>
          <Route element={<AppShell />}>
            <Route index element={<Navigate to="/flows" replace />} />
            <Route path="/flows" element={<FlowsPage />} />
            <Route path="/flows/:flowId" element={<ComingSoonPage page={BUILDER} />} />
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
