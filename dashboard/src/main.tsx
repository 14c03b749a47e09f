import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

import { App } from "./App";
import "./styles.css";

// A page opened before the dashboard was rebuilt names chunks of the earlier build; the build
// keeps them for a while, but should one be gone, load the new page once instead of failing.
// (At most once a minute, so a chunk that is truly missing shows its error, not a reload loop.)
const RELOADED_AT = "flowdeck-reloaded-for-new-build";
window.addEventListener("vite:preloadError", (event) => {
  const last = Number(sessionStorage.getItem(RELOADED_AT) ?? 0);
  if (Date.now() - last < 60_000) return;
  event.preventDefault();
  sessionStorage.setItem(RELOADED_AT, String(Date.now()));
  window.location.reload();
});

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
