import { useState, type FormEvent } from "react";

import { ApiProblem, api, call, messageOf, type Schemas } from "../api/client";
import { Dialog } from "../components/Dialog";
import { ProblemDetails } from "../components/ProblemDetails";
import { ContactExecutions } from "./ContactExecutions";
import { CustomFieldsEditor } from "./CustomFieldsEditor";
import { customChange, rowsOf, valueText, type CustomRow } from "./customFields";
import { DNC_TAG, isDnc, shortTime, withDnc } from "./format";
import { TagEditor } from "./TagEditor";

export type Contact = Schemas["ContactOut"];

type ContactDialogProps =
  | { mode: "create"; onSaved: (saved: Schemas["ContactEngaged"], created: boolean) => void; onClose: () => void }
  | { mode: "edit" | "view"; contact: Contact; onSaved: (saved: Schemas["ContactEngaged"], created: boolean) => void; onClose: () => void };

/** One contact: read it (with its executions), edit it, or create a new one. */
export function ContactDialog(props: ContactDialogProps) {
  const contact = props.mode === "create" ? null : props.contact;
  const title = props.mode === "create" ? "New contact" : props.mode === "edit" ? `Edit ${contact?.name || contact?.phone || contact?.email}` : contact?.name || contact?.phone || "Contact";
  return (
    <Dialog title={title} onClose={props.onClose}>
      <div className="wide-dialog-body" />
      {props.mode === "view" && contact ? (
        <ContactView contact={contact} onClose={props.onClose} />
      ) : (
        <ContactForm contact={contact} onSaved={props.onSaved} onClose={props.onClose} />
      )}
    </Dialog>
  );
}

function ContactView({ contact, onClose }: { contact: Contact; onClose: () => void }) {
  const custom = Object.entries(contact.custom ?? {});
  return (
    <>
      <dl className="contact-facts">
        <dt>Phone</dt>
        <dd>{contact.phone ?? "—"}</dd>
        <dt>Email</dt>
        <dd>{contact.email ?? "—"}</dd>
        <dt>Lead source</dt>
        <dd>{contact.lead_source ?? "—"}</dd>
        <dt>Tags</dt>
        <dd>
          <TagChips tags={contact.tags} />
        </dd>
        {custom.map(([key, value]) => (
          <FactRow key={key} label={key} value={valueText(value)} />
        ))}
        <dt>Created</dt>
        <dd>{shortTime(contact.created_at)}</dd>
      </dl>
      <ContactExecutions contactId={contact.id} />
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onClose}>
          Close
        </button>
      </div>
    </>
  );
}

function FactRow({ label, value }: { label: string; value: string }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </>
  );
}

/** Tags as chips, the DNC tag marked as what it means. */
export function TagChips({ tags }: { tags: readonly string[] | null }) {
  if (!tags || tags.length === 0) return <span className="cell-soft">—</span>;
  return (
    <ul className="chips">
      {tags.map((tag) =>
        tag.toUpperCase() === DNC_TAG ? (
          <li key={tag} className="chip chip-dnc" title="Do not call: flows skip this contact">
            Do not call
          </li>
        ) : (
          <li key={tag} className="chip">
            {tag}
          </li>
        ),
      )}
    </ul>
  );
}

function text(value: string): string | null {
  return value.trim() === "" ? null : value.trim();
}

interface ContactFormProps {
  contact: Contact | null;
  onSaved: (saved: Schemas["ContactEngaged"], created: boolean) => void;
  onClose: () => void;
}

function ContactForm({ contact, onSaved, onClose }: ContactFormProps) {
  const [name, setName] = useState(contact?.name ?? "");
  const [phone, setPhone] = useState(contact?.phone ?? "");
  const [email, setEmail] = useState(contact?.email ?? "");
  const [leadSource, setLeadSource] = useState(contact?.lead_source ?? "");
  const [tags, setTags] = useState<string[]>((contact?.tags ?? []).filter((tag) => !isDnc([tag])));
  const [dnc, setDnc] = useState(isDnc(contact?.tags));
  const [custom, setCustom] = useState<CustomRow[]>(rowsOf(contact?.custom));
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setPending(true);
    setError(null);
    const fields = {
      name: text(name),
      phone: text(phone),
      email: text(email),
      lead_source: text(leadSource),
      tags: withDnc(tags, dnc),
    };
    try {
      if (contact === null) {
        const body: Schemas["ContactIn"] = { ...fields, custom: customChange(null, custom) };
        const answer = api.POST("/api/contacts", { body });
        const saved = await call(answer);
        onSaved(saved, (await answer).response.status === 201);
      } else {
        const body: Schemas["ContactPatch"] = { ...fields, custom: customChange(contact.custom, custom) };
        onSaved(await call(api.PATCH("/api/contacts/{contact_id}", { params: { path: { contact_id: contact.id } }, body })), false);
      }
    } catch (problem) {
      setError(problem);
      setPending(false);
    }
  }

  return (
    <form onSubmit={submit} className="form">
      <div className="form-grid">
        <div className="field">
          <label htmlFor="contact-name">Name</label>
          <input id="contact-name" maxLength={200} autoFocus value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="contact-lead-source">Lead source</label>
          <input id="contact-lead-source" maxLength={64} value={leadSource} onChange={(e) => setLeadSource(e.target.value)} aria-describedby="contact-lead-source-hint" />
        </div>
        <div className="field">
          <label htmlFor="contact-phone">Phone</label>
          <input id="contact-phone" type="tel" placeholder="+919812345678" value={phone} onChange={(e) => setPhone(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="contact-email">Email</label>
          <input id="contact-email" type="email" maxLength={320} value={email} onChange={(e) => setEmail(e.target.value)} />
        </div>
        <p className="hint field-full" id="contact-lead-source-hint">
          A phone in E.164 form, or an email, or both. A lead source set for the first time starts the lead flow it matches.
        </p>
        <div className="field field-full">
          <label className="check check-dnc">
            <input type="checkbox" checked={dnc} onChange={(e) => setDnc(e.target.checked)} />
            Do not call (the DNC tag: no flow calls or messages this contact)
          </label>
        </div>
        <div className="field field-full">
          <label htmlFor="contact-new-tag">Tags</label>
          <TagEditor tags={tags} onChange={setTags} />
        </div>
        <div className="field field-full">
          <span className="label">Custom fields</span>
          <CustomFieldsEditor rows={custom} onChange={setCustom} />
        </div>
      </div>
      {contact && <ContactExecutions contactId={contact.id} />}
      {error !== null && (
        <div className="form-error" role="alert">
          {messageOf(error)}
          {error instanceof ApiProblem && <ProblemDetails details={error.details} />}
        </div>
      )}
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onClose}>
          Cancel
        </button>
        <button type="submit" className="button button-primary" disabled={pending || (text(phone) === null && text(email) === null)}>
          {pending ? "Saving…" : contact === null ? "Create contact" : "Save contact"}
        </button>
      </div>
    </form>
  );
}
