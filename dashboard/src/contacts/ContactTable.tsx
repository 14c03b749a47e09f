import { Link } from "react-router";

import { TagChips, type Contact } from "./ContactDialog";
import { isDnc, shortDate, shortTime } from "./format";

export interface ContactRowActions {
  onOpen: (contact: Contact) => void;
  onEdit: (contact: Contact) => void;
  onDnc: (contact: Contact, on: boolean) => void;
  onDelete: (contact: Contact) => void;
}

interface ContactTableProps extends ContactRowActions {
  contacts: Contact[];
  canEdit: boolean;
  pending: ReadonlySet<string>;
}

export function contactLabel(contact: Contact): string {
  return contact.name || contact.phone || contact.email || contact.id;
}

/** Contacts as a table: who, how to reach them, their tags, do-not-call, and actions. */
export function ContactTable({ contacts, canEdit, pending, onOpen, onEdit, onDnc, onDelete }: ContactTableProps) {
  return (
    <div className="table-frame">
      <table className="records-table contacts-table" aria-label="Contacts">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Phone</th>
            <th scope="col">Email</th>
            <th scope="col">Tags</th>
            <th scope="col">Do not call</th>
            <th scope="col">Created</th>
            <th scope="col" className="col-actions">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {contacts.map((contact) => {
            const label = contactLabel(contact);
            const dnc = isDnc(contact.tags);
            return (
              <tr key={contact.id} className={dnc ? "contact-row row-flagged" : "contact-row"} data-contact-id={contact.id}>
                <th scope="row" className="cell-main">
                  <button type="button" className="button-link" onClick={() => onOpen(contact)}>
                    {label}
                  </button>
                  {contact.lead_source && <span className="cell-sub">Lead source: {contact.lead_source}</span>}
                </th>
                <td className="cell-nowrap">{contact.phone ?? "—"}</td>
                <td className="cell-soft">{contact.email ?? "—"}</td>
                <td>
                  <TagChips tags={(contact.tags ?? []).filter((tag) => !isDnc([tag]))} />
                </td>
                <td>
                  {canEdit ? (
                    <button
                      type="button"
                      role="switch"
                      aria-checked={dnc}
                      aria-label={`${label}: do not call`}
                      className={dnc ? "switch switch-dnc switch-on-dnc" : "switch switch-dnc"}
                      disabled={pending.has(contact.id)}
                      onClick={() => onDnc(contact, !dnc)}
                    >
                      <span className="switch-knob" aria-hidden="true" />
                      <span className="switch-text">{dnc ? "DNC" : "Off"}</span>
                    </button>
                  ) : dnc ? (
                    <span className="chip chip-dnc">Do not call</span>
                  ) : (
                    <span className="cell-soft">—</span>
                  )}
                </td>
                <td className="cell-soft cell-nowrap" title={shortTime(contact.created_at)}>
                  {shortDate(contact.created_at)}
                </td>
                <td className="col-actions">
                  <Link className="button-quiet" to={`/executions?contact_id=${encodeURIComponent(contact.id)}`} aria-label={`Executions of ${label}`}>
                    Executions
                  </Link>
                  {canEdit && (
                    <>
                      <button type="button" className="button-quiet" aria-label={`Edit ${label}`} onClick={() => onEdit(contact)} disabled={pending.has(contact.id)}>
                        Edit
                      </button>
                      <button type="button" className="button-quiet button-quiet-danger" aria-label={`Delete ${label}`} onClick={() => onDelete(contact)} disabled={pending.has(contact.id)}>
                        Delete
                      </button>
                    </>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
