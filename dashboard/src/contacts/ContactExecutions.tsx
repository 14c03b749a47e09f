import { Link } from "react-router";

import { api, call } from "../api/client";
import { useResource } from "../api/useResource";
import { ErrorState } from "../components/ErrorState";
import { LoadingState } from "../components/LoadingState";
import { shortTime } from "./format";

const SHOWN = 5;

/** The contact's latest executions, and the way to all of them on the Executions page. */
export function ContactExecutions({ contactId }: { contactId: string }) {
  const runs = useResource(
    () => call(api.GET("/api/executions", { params: { query: { contact_id: contactId, limit: SHOWN } } })),
    [contactId],
  );
  const all = `/executions?contact_id=${encodeURIComponent(contactId)}`;

  return (
    <section aria-labelledby="contact-executions-title" className="contact-executions">
      <h3 id="contact-executions-title">Executions</h3>
      {runs.resource.status === "loading" && <LoadingState label="Loading executions…" />}
      {runs.resource.status === "error" && (
        <ErrorState title="The contact's executions could not be loaded" error={runs.resource.error} onRetry={runs.retry} />
      )}
      {runs.resource.status === "ready" &&
        (runs.resource.data.items.length === 0 ? (
          <p className="hint">No flow has run for this contact yet.</p>
        ) : (
          <ul className="execution-list">
            {runs.resource.data.items.map((run) => (
              <li key={run.id}>
                <Link to={`/executions/${run.id}`}>{shortTime(run.created_at)}</Link>{" "}
                <span className={`chip chip-status-${run.status}`}>{run.status}</span>
                {run.test && <span className="chip chip-quiet">test</span>}
                {run.current_node && <span className="hint"> at {run.current_node}</span>}
              </li>
            ))}
          </ul>
        ))}
      <Link to={all} className="contact-all-executions">
        All executions of this contact
      </Link>
    </section>
  );
}
