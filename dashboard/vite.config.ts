import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev` serves the sources on :5173 and passes /api to a running `./run` on :8000.
// The proxy keeps the browser's Host, so the API's same-origin check on changes holds.
export default defineConfig({
  plugins: [react()],
  // Earlier builds' assets stay (flowdeck dashboard build prunes them after a day): a page
  // opened before a rebuild still loads the lazily-loaded chunks it names.
  build: { outDir: "dist", assetsDir: "assets", sourcemap: false, emptyOutDir: false },
  server: { proxy: { "/api": { target: "http://localhost:8000" } } },
});
