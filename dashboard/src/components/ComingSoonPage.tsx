import type { PageEntry } from "../pages";

/** A page the dashboard does not have yet: what it will hold, and where the API has it now. */
export function ComingSoonPage({ page }: { page: Pick<PageEntry, "label" | "purpose" | "api"> }) {
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">{page.label}</h1>
      <div className="state state-empty">
        <strong>This page is coming soon.</strong>
        <p>{page.purpose}</p>
        <p>
          Until then the API has it: <code>{page.api}</code>, described in the{" "}
          <a href="/docs">API docs</a>.
        </p>
      </div>
    </section>
  );
}
