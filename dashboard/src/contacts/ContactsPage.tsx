import { useEffect, useState } from "react";
import { useSearchParams } from "react-router";

import { api, call, type Schemas } from "../api/client";
import { useResource } from "../api/useResource";
import { ActionMessage, type Outcome } from "../components/ActionMessage";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { EmptyState } from "../components/EmptyState";
import { ErrorState } from "../components/ErrorState";
import { LoadingState } from "../components/LoadingState";
import { canEditFlows } from "../session/roles";
import { useSession } from "../session/SessionProvider";
import { ContactDialog, type Contact } from "./ContactDialog";
import { contactLabel, ContactTable } from "./ContactTable";
import { withDnc } from "./format";
import "./records.css";

const PAGE_SIZE = 25;
const SEARCH_DELAY_MS = 300;

type Open = { mode: "create" } | { mode: "edit" | "view"; contact: Contact } | null;

function engagementText(engagement: Schemas["ContactEngaged"]["engagement"]): string {
  switch (engagement.status) {
    case "started":
      return " It started a lead flow.";
    case "skipped":
      return ` No flow started: ${String(engagement.reason ?? "skipped")}.`;
    case "error":
      return ` Its lead flow could not start: ${String(engagement.reason ?? "error")}.`;
    default:
      return "";
  }
}

/** The run a lead flow started, one click away from the message that says so. */
function engagementLink(engagement: Schemas["ContactEngaged"]["engagement"]): { to: string; label: string } | undefined {
  const id = engagement.execution_id;
  return engagement.status === "started" && typeof id === "string" ? { to: `/executions/${encodeURIComponent(id)}`, label: "Watch it run" } : undefined;
}

/** The tenant's contacts: search, pages, tags, do-not-call, and create, edit and delete. */
export function ContactsPage() {
  const { session } = useSession();
  const canEdit = canEditFlows(session.role);
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const [typed, setTyped] = useState(q);
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1];
  const contacts = useResource(
    () => call(api.GET("/api/contacts", { params: { query: { q: q || undefined, limit: PAGE_SIZE, cursor: cursor ?? undefined } } })),
    [q, cursor],
  );
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [pending, setPending] = useState<ReadonlySet<string>>(new Set());
  const [open, setOpen] = useState<Open>(null);
  const [deleting, setDeleting] = useState<Contact | null>(null);

  // Search as you type, once typing pauses; a new search starts from the first page.
  useEffect(() => {
    if (typed.trim() === q) return;
    const timer = window.setTimeout(() => {
      setCursors([null]);
      setParams(typed.trim() ? { q: typed.trim() } : {}, { replace: true });
    }, SEARCH_DELAY_MS);
    return () => window.clearTimeout(timer);
  }, [typed, q, setParams]);

  const page = contacts.resource.status === "ready" ? contacts.resource.data : null;
  const replaceContact = (changed: Contact) =>
    page && contacts.replace({ ...page, items: page.items.map((c) => (c.id === changed.id ? changed : c)) });

  async function setDnc(contact: Contact, on: boolean) {
    setPending((ids) => new Set(ids).add(contact.id));
    try {
      const saved = await call(
        api.PATCH("/api/contacts/{contact_id}", { params: { path: { contact_id: contact.id } }, body: { tags: withDnc(contact.tags, on) } }),
      );
      replaceContact(saved);
      setOutcome({
        kind: "done",
        text: on ? `${contactLabel(contact)} is marked Do not call: flows skip them from now on.` : `${contactLabel(contact)} may be called again.`,
      });
    } catch (error) {
      setOutcome({ kind: "failed", action: on ? "Marking Do not call" : "Clearing Do not call", error });
    } finally {
      setPending((ids) => {
        const rest = new Set(ids);
        rest.delete(contact.id);
        return rest;
      });
    }
  }

  return (
    <section aria-labelledby="page-title" className="contacts-page">
      <header className="page-header">
        <h1 id="page-title">Contacts</h1>
        {canEdit && (
          <div className="page-actions">
            <button type="button" className="button button-primary" onClick={() => setOpen({ mode: "create" })}>
              New contact
            </button>
          </div>
        )}
      </header>
      <form className="toolbar" role="search" onSubmit={(event) => event.preventDefault()}>
        <div className="field field-grow">
          <label htmlFor="contact-search">Search contacts</label>
          <input id="contact-search" type="search" placeholder="Name, phone or email" maxLength={200} value={typed} onChange={(e) => setTyped(e.target.value)} />
        </div>
      </form>
      {!canEdit && <p className="read-only-note">Your key reads contacts; a manager or an admin changes them.</p>}
      <ActionMessage outcome={outcome} onDismiss={() => setOutcome(null)} />
      {contacts.resource.status === "loading" && <LoadingState label="Loading contacts…" />}
      {contacts.resource.status === "error" && <ErrorState title="The contacts could not be loaded" error={contacts.resource.error} onRetry={contacts.retry} />}
      {page &&
        (page.items.length === 0 ? (
          <EmptyState title={q ? `No contact matches "${q}"` : "No contacts yet"}>
            <p>
              {q
                ? "Search looks in names, phones and emails."
                : canEdit
                  ? "Create one here, or post leads to POST /api/contacts."
                  : "Leads posted to the API will be listed here."}
            </p>
          </EmptyState>
        ) : (
          <>
            <ContactTable
              contacts={page.items}
              canEdit={canEdit}
              pending={pending}
              onOpen={(contact) => setOpen({ mode: canEdit ? "edit" : "view", contact })}
              onEdit={(contact) => setOpen({ mode: "edit", contact })}
              onDnc={(contact, on) => void setDnc(contact, on)}
              onDelete={setDeleting}
            />
            <nav className="pager" aria-label="Contact pages">
              <span>
                Page {cursors.length} · {page.items.length} contact{page.items.length === 1 ? "" : "s"}, newest first
              </span>
              <span className="pager-buttons">
                <button type="button" className="button" disabled={cursors.length === 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
                  Newer
                </button>
                <button type="button" className="button" disabled={!page.next_cursor} onClick={() => setCursors((c) => [...c, page.next_cursor ?? null])}>
                  Older
                </button>
              </span>
            </nav>
          </>
        ))}
      {open && (
        <ContactDialog
          {...open}
          onClose={() => setOpen(null)}
          onSaved={(saved, created) => {
            setOpen(null);
            if (open.mode === "create") {
              contacts.reload();
              const merged = created ? "Created" : "Merged into the existing contact with that phone:";
              setOutcome({
                kind: "done",
                text: `${merged} ${contactLabel(saved)}.${engagementText(saved.engagement)}`,
                link: engagementLink(saved.engagement),
              });
            } else {
              replaceContact(saved);
              setOutcome({
                kind: "done",
                text: `Saved ${contactLabel(saved)}.${engagementText(saved.engagement)}`,
                link: engagementLink(saved.engagement),
              });
            }
          }}
        />
      )}
      {deleting && (
        <ConfirmDialog
          title={`Delete ${contactLabel(deleting)}?`}
          confirmLabel="Delete contact"
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            await call(api.DELETE("/api/contacts/{contact_id}", { params: { path: { contact_id: deleting.id } } }));
            setDeleting(null);
            contacts.reload();
            setOutcome({ kind: "done", text: `Deleted ${contactLabel(deleting)}.` });
          }}
        >
          <p>The contact leaves this list. Its executions keep their own copy of it. This cannot be undone.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}
