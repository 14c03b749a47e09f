import { useState, type FormEvent } from "react";

import { messageOf } from "../api/client";

interface SignInPageProps {
  onSignIn: (key: string) => Promise<void>;
  notice?: string;
}

/** Paste an API key once: the API keeps it in an HttpOnly session cookie, never this page. */
export function SignInPage({ onSignIn, notice }: SignInPageProps) {
  const [key, setKey] = useState("");
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setPending(true);
    setError(null);
    try {
      await onSignIn(key.trim());
    } catch (problem) {
      setError(messageOf(problem));
      setPending(false);
    }
  }

  return (
    <main className="sign-in">
      <form className="sign-in-card" onSubmit={submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">
          <span className="brand-mark" aria-hidden="true">F</span> Sign in to Flowdeck
        </h1>
        {notice && <p className="notice" role="status">{notice}</p>}
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="off"
          spellCheck={false}
          required
          autoFocus
          value={key}
          onChange={(event) => setKey(event.target.value)}
          aria-describedby="api-key-help"
          aria-invalid={error !== null}
        />
        <p id="api-key-help" className="hint">
          <code>./run</code> prints the development admin key; an admin creates others under Keys.
          The key is kept in a secure cookie for 12 hours, not in this page.
        </p>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="button button-primary" disabled={pending || key.trim() === ""}>
          {pending ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
