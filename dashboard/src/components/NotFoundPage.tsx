import { Link } from "react-router";

/** An address the dashboard has no page for. */
export function NotFoundPage() {
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">No such page</h1>
      <div className="state state-empty">
        <p>
          There is nothing at this address. <Link to="/flows">Go to your flows</Link>.
        </p>
      </div>
    </section>
  );
}
