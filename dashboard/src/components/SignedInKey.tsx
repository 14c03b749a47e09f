import { useState } from "react";

import { messageOf } from "../api/client";
import { ROLE_LABELS } from "../session/roles";
import { useSession } from "../session/SessionProvider";

/** The signed-in key's name, role and tenant, and the sign-out button. */
export function SignedInKey() {
  const { session, signOut } = useSession();
  const [error, setError] = useState<string | null>(null);

  async function leave() {
    setError(null);
    try {
      await signOut();
    } catch (problem) {
      setError(`Sign-out failed: ${messageOf(problem)}`);
    }
  }

  return (
    <div className="signed-in" aria-label="Signed in as">
      <span className="signed-in-name" data-testid="key-name">
        {session.key_name}
      </span>
      <span className={`role-badge role-${session.role}`} data-testid="key-role">
        {ROLE_LABELS[session.role]}
      </span>
      <span className="signed-in-tenant" data-testid="tenant-name">
        {session.tenant_name || "no tenant"}
      </span>
      <button type="button" className="button" onClick={leave}>
        Sign out
      </button>
      {error && (
        <span className="form-error" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}
