import { useState, type FormEvent } from "react";

import { ApiProblem, api, call, messageOf, type Schemas } from "../api/client";
import { ProblemDetails } from "../components/ProblemDetails";
import { CHANNELS, CHANNEL_LABELS, type Channel } from "./channels";
import { TemplatePreview } from "./TemplatePreview";

export type Template = Schemas["TemplateOut"];

interface TemplateEditorProps {
  /** null: a new template, created on save. */
  template: Template | null;
  canEdit: boolean;
  onSaved: (saved: Template, created: boolean) => void;
  onDelete: (template: Template) => void;
  onClose: () => void;
}

function orNull(text: string): string | null {
  return text === "" ? null : text;
}

/** A template's channel, name and texts, edited with a live preview beside them. */
export function TemplateEditor({ template, canEdit, onSaved, onDelete, onClose }: TemplateEditorProps) {
  const [name, setName] = useState(template?.name ?? "");
  const [channel, setChannel] = useState<Channel>((template?.channel as Channel | undefined) ?? "sms");
  const [subject, setSubject] = useState(template?.subject ?? "");
  const [body, setBody] = useState(template?.body ?? "");
  const [html, setHtml] = useState(template?.html ?? "");
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const email = channel === "email";
  const texts = { subject: email ? orNull(subject) : null, body: orNull(body), html: email ? orNull(html) : null };
  const changed =
    template === null ||
    name !== template.name ||
    channel !== template.channel ||
    texts.subject !== template.subject ||
    texts.body !== template.body ||
    texts.html !== template.html;

  async function save(event: FormEvent) {
    event.preventDefault();
    setPending(true);
    setError(null);
    try {
      if (template === null) {
        onSaved(await call(api.POST("/api/templates", { body: { name: name.trim(), channel, ...texts } })), true);
      } else {
        const changes: Schemas["TemplateUpdate"] = { name: name.trim(), channel, ...texts };
        onSaved(await call(api.PATCH("/api/templates/{template_id}", { params: { path: { template_id: template.id } }, body: changes })), false);
      }
    } catch (problem) {
      setError(problem);
    } finally {
      setPending(false);
    }
  }

  const title = template === null ? "New template" : template.name;
  return (
    <div className="template-workbench">
      <form className="template-editor panel form" onSubmit={save} aria-labelledby="editor-title">
        <h2 id="editor-title">{canEdit ? (template === null ? title : `Edit “${title}”`) : title}</h2>
        <div className="form-grid">
          <div className="field">
            <label htmlFor="template-name">Name</label>
            <input id="template-name" required maxLength={200} readOnly={!canEdit} value={name} onChange={(e) => setName(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="template-channel">Channel</label>
            {canEdit ? (
              <select id="template-channel" value={channel} onChange={(e) => setChannel(e.target.value as Channel)}>
                {CHANNELS.map((c) => (
                  <option key={c} value={c}>
                    {CHANNEL_LABELS[c]}
                  </option>
                ))}
              </select>
            ) : (
              <input id="template-channel" readOnly value={CHANNEL_LABELS[channel] ?? channel} />
            )}
          </div>
          {email && (
            <div className="field field-full">
              <label htmlFor="template-subject">Subject</label>
              <input id="template-subject" maxLength={1000} readOnly={!canEdit} value={subject} onChange={(e) => setSubject(e.target.value)} />
            </div>
          )}
          <div className="field field-full">
            <label htmlFor="template-body">{email ? "Text body" : "Message"}</label>
            <textarea id="template-body" rows={email ? 6 : 8} readOnly={!canEdit} spellCheck={false} value={body} onChange={(e) => setBody(e.target.value)} />
          </div>
          {email && (
            <div className="field field-full">
              <label htmlFor="template-html">HTML body (optional)</label>
              <textarea id="template-html" rows={5} readOnly={!canEdit} spellCheck={false} value={html} onChange={(e) => setHtml(e.target.value)} />
            </div>
          )}
        </div>
        <p className="hint">
          Jinja2: <code>{"{{ contact.name }}"}</code>, <code>{"{{ vars.product }}"}</code>, <code>{"{{ trigger.… }}"}</code>. A flow's step renders it with the run's contact and variables.
        </p>
        {error !== null && (
          <div className="form-error" role="alert">
            {messageOf(error)}
            {error instanceof ApiProblem && <ProblemDetails details={error.details} />}
          </div>
        )}
        <div className="dialog-actions">
          {canEdit && template !== null && (
            <button type="button" className="button button-quiet-danger template-delete" onClick={() => onDelete(template)}>
              Delete
            </button>
          )}
          <button type="button" className="button" onClick={onClose}>
            {canEdit && changed ? "Cancel" : "Close"}
          </button>
          {canEdit && (
            <button type="submit" className="button button-primary" disabled={pending || !changed || name.trim() === ""}>
              {pending ? "Saving…" : template === null ? "Create template" : "Save template"}
            </button>
          )}
        </div>
      </form>
      {template === null ? (
        <section className="template-preview panel">
          <h2>Preview</h2>
          <p className="hint">Create the template to preview it with a sample contact.</p>
        </section>
      ) : (
        <TemplatePreview templateId={template.id} texts={texts} channel={channel} />
      )}
    </div>
  );
}
