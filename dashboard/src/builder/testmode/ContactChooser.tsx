import { useEffect, useState } from "react";

import { api, call, type Schemas } from "../../api/client";
import { ErrorState } from "../../components/ErrorState";

/** Who the test runs for: a stored contact, a typed one, or why the typed one is not valid. */
export type ContactChoice = { contact_id: string } | { contact: Record<string, unknown> } | { invalid: string } | null;

interface Typed {
  name: string;
  phone: string;
  email: string;
  lead_source: string;
  tags: string;
  custom: string;
}

const EMPTY: Typed = { name: "", phone: "", email: "", lead_source: "", tags: "", custom: "" };

function typedContact(typed: Typed): ContactChoice {
  const contact: Record<string, unknown> = {};
  for (const key of ["name", "phone", "email", "lead_source"] as const) {
    if (typed[key].trim()) contact[key] = typed[key].trim();
  }
  contact.tags = typed.tags
    .split(",")
    .map((tag) => tag.trim())
    .filter(Boolean);
  if (typed.custom.trim()) {
    let custom: unknown;
    try {
      custom = JSON.parse(typed.custom);
    } catch {
      return { invalid: "Custom fields are not valid JSON." };
    }
    if (typeof custom !== "object" || custom === null || Array.isArray(custom)) {
      return { invalid: 'Custom fields must be a JSON object, like {"product": "pumps"}.' };
    }
    contact.custom = custom;
  }
  return { contact };
}

function describe(contact: Schemas["ContactOut"]): string {
  return [contact.name ?? "(no name)", contact.phone, contact.email].filter(Boolean).join(" · ");
}

type Found = { status: "loading" } | { status: "ready"; items: Schemas["ContactOut"][] } | { status: "error"; error: unknown };

function ContactSearch({ picked, onPick }: { picked: string | null; onPick: (id: string) => void }) {
  const [query, setQuery] = useState("");
  const [found, setFound] = useState<Found>({ status: "loading" });
  const [asked, setAsked] = useState(0);

  useEffect(() => {
    let current = true;
    const timer = window.setTimeout(() => {
      call(api.GET("/api/contacts", { params: { query: { q: query.trim() || undefined, limit: 8 } } })).then(
        (page) => current && setFound({ status: "ready", items: page.items }),
        (error: unknown) => current && setFound({ status: "error", error }),
      );
    }, 250);
    return () => {
      current = false;
      window.clearTimeout(timer);
    };
  }, [query, asked]);

  return (
    <div className="contact-search">
      <label htmlFor="test-contact-search">Search contacts</label>
      <input
        id="test-contact-search"
        type="search"
        placeholder="Name, phone or email"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
      />
      {found.status === "loading" && <p className="hint">Searching…</p>}
      {found.status === "error" && (
        <ErrorState title="The contacts could not be searched" error={found.error} onRetry={() => setAsked((n) => n + 1)} />
      )}
      {found.status === "ready" && found.items.length === 0 && (
        <p className="hint">{query.trim() ? `No contact matches "${query.trim()}".` : "No contacts yet: type one instead."}</p>
      )}
      {found.status === "ready" && found.items.length > 0 && (
        <fieldset className="contact-results">
          <legend className="visually-hidden">Contacts found</legend>
          {found.items.map((contact) => (
            <label key={contact.id} className="contact-result">
              <input type="radio" name="test-contact" checked={picked === contact.id} onChange={() => onPick(contact.id)} />
              <span>{describe(contact)}</span>
              {contact.tags && contact.tags.length > 0 && <span className="contact-tags">{contact.tags.join(", ")}</span>}
            </label>
          ))}
        </fieldset>
      )}
    </div>
  );
}

/** Choose a stored contact (searched) or type one: name, phone, email, tags, custom fields. */
export function ContactChooser({ onChange }: { onChange: (choice: ContactChoice) => void }) {
  const [mode, setMode] = useState<"typed" | "stored">("typed");
  const [typed, setTyped] = useState<Typed>(EMPTY);
  const [picked, setPicked] = useState<string | null>(null);

  useEffect(() => {
    onChange(mode === "typed" ? typedContact(typed) : picked ? { contact_id: picked } : null);
    // `onChange` is the panel's setter; the choice depends only on what is typed or picked.
  }, [mode, typed, picked]);

  const field = (key: keyof Typed, label: string, type = "text", placeholder = "") => (
    <>
      <label htmlFor={`test-contact-${key}`}>{label}</label>
      <input
        id={`test-contact-${key}`}
        type={type}
        placeholder={placeholder}
        value={typed[key]}
        onChange={(e) => setTyped({ ...typed, [key]: e.target.value })}
      />
    </>
  );

  return (
    <fieldset className="test-section">
      <legend>Contact</legend>
      <div className="segmented" role="radiogroup" aria-label="Contact source">
        <label>
          <input type="radio" name="test-contact-mode" checked={mode === "typed"} onChange={() => setMode("typed")} /> Type one
        </label>
        <label>
          <input type="radio" name="test-contact-mode" checked={mode === "stored"} onChange={() => setMode("stored")} /> A
          stored contact
        </label>
      </div>
      {mode === "stored" ? (
        <ContactSearch picked={picked} onPick={setPicked} />
      ) : (
        <div className="form contact-form">
          {field("name", "Name")}
          {field("phone", "Phone", "tel", "+15550100001")}
          {field("email", "Email", "email")}
          {field("lead_source", "Lead source", "text", "IndiaMART")}
          {field("tags", "Tags (comma separated)", "text", "vip, returning")}
          <label htmlFor="test-contact-custom">Custom fields (JSON)</label>
          <textarea
            id="test-contact-custom"
            rows={2}
            placeholder='{"product": "pumps"}'
            value={typed.custom}
            onChange={(e) => setTyped({ ...typed, custom: e.target.value })}
          />
        </div>
      )}
    </fieldset>
  );
}
