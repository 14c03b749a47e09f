import { useState } from "react";

import { api, call } from "../api/client";
import { useResource } from "../api/useResource";
import { ActionMessage, type Outcome } from "../components/ActionMessage";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { EmptyState } from "../components/EmptyState";
import { ErrorState } from "../components/ErrorState";
import { LoadingState } from "../components/LoadingState";
import { shortTime } from "../contacts/format";
import "../contacts/records.css";
import { canEditFlows } from "../session/roles";
import { useSession } from "../session/SessionProvider";
import { CHANNELS, CHANNEL_LABELS, channelLabel, type Channel } from "./channels";
import { TemplateEditor, type Template } from "./TemplateEditor";
import "./templates.css";

type Selected = { kind: "new" } | { kind: "template"; id: string } | null;

/** Stored message templates: list them by channel, edit one with its live preview. */
export function TemplatesPage() {
  const { session } = useSession();
  const canEdit = canEditFlows(session.role);
  const [channel, setChannel] = useState<Channel | "">("");
  const templates = useResource(
    () => call(api.GET("/api/templates", { params: { query: { channel: channel || undefined } } })),
    [channel],
  );
  const [selected, setSelected] = useState<Selected>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [deleting, setDeleting] = useState<Template | null>(null);
  const list = templates.resource.status === "ready" ? templates.resource.data : [];
  const open = selected?.kind === "template" ? (list.find((t) => t.id === selected.id) ?? null) : null;

  function saved(template: Template, created: boolean) {
    templates.replace(created ? [...list, template].sort((a, b) => a.name.localeCompare(b.name)) : list.map((t) => (t.id === template.id ? template : t)));
    setSelected({ kind: "template", id: template.id });
    setOutcome({ kind: "done", text: created ? `Created the template "${template.name}".` : `Saved "${template.name}".` });
  }

  return (
    <section aria-labelledby="page-title" className="templates-page">
      <header className="page-header">
        <h1 id="page-title">Templates</h1>
        {canEdit && (
          <div className="page-actions">
            <button type="button" className="button button-primary" onClick={() => setSelected({ kind: "new" })}>
              New template
            </button>
          </div>
        )}
      </header>
      <div className="toolbar">
        <div className="field">
          <label htmlFor="template-channel-filter">Channel</label>
          <select id="template-channel-filter" value={channel} onChange={(e) => setChannel(e.target.value as Channel | "")}>
            <option value="">All channels</option>
            {CHANNELS.map((c) => (
              <option key={c} value={c}>
                {CHANNEL_LABELS[c]}
              </option>
            ))}
          </select>
        </div>
      </div>
      {!canEdit && <p className="read-only-note">Your key reads templates and previews them; a manager or an admin changes them.</p>}
      <ActionMessage outcome={outcome} onDismiss={() => setOutcome(null)} />
      <div className={selected ? "templates-layout templates-layout-open" : "templates-layout"}>
        <div className="templates-list">
          {templates.resource.status === "loading" && <LoadingState label="Loading templates…" />}
          {templates.resource.status === "error" && <ErrorState title="The templates could not be loaded" error={templates.resource.error} onRetry={templates.retry} />}
          {templates.resource.status === "ready" &&
            (list.length === 0 ? (
              <EmptyState title={channel ? `No ${CHANNEL_LABELS[channel]} templates` : "No templates yet"}>
                <p>
                  {canEdit
                    ? "Create one with New template: email, SMS and WhatsApp steps can send it by name."
                    : "A manager or an admin creates templates; they will be listed here."}
                </p>
              </EmptyState>
            ) : (
              <div className="table-frame">
                <table className="records-table" aria-label="Templates">
                  <thead>
                    <tr>
                      <th scope="col">Template</th>
                      <th scope="col">Channel</th>
                      <th scope="col" className="col-updated">
                        Updated
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {list.map((template) => (
                      <tr key={template.id} className={open?.id === template.id ? "template-row row-selected" : "template-row"}>
                        <th scope="row" className="cell-main">
                          <button
                            type="button"
                            className="button-link"
                            aria-current={open?.id === template.id ? "true" : undefined}
                            onClick={() => setSelected({ kind: "template", id: template.id })}
                          >
                            {template.name}
                          </button>
                        </th>
                        <td>
                          <span className="chip chip-quiet">{channelLabel(template.channel)}</span>
                        </td>
                        <td className="cell-soft cell-nowrap col-updated">{shortTime(template.updated_at)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            ))}
        </div>
        {(selected?.kind === "new" || open) && (
          <TemplateEditor
            key={open?.id ?? "new"}
            template={open}
            canEdit={canEdit}
            onSaved={saved}
            onDelete={setDeleting}
            onClose={() => setSelected(null)}
          />
        )}
      </div>
      {deleting && (
        <ConfirmDialog
          title={`Delete the template "${deleting.name}"?`}
          confirmLabel="Delete template"
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            await call(api.DELETE("/api/templates/{template_id}", { params: { path: { template_id: deleting.id } } }));
            setDeleting(null);
            setSelected(null);
            templates.replace(list.filter((t) => t.id !== deleting.id));
            setOutcome({ kind: "done", text: `Deleted the template "${deleting.name}".` });
          }}
        >
          <p>Flow steps that send it by name will fail until a template of that name exists again.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}
