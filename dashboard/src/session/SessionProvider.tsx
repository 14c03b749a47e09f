import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";

import { ApiProblem, api, call, onUnauthorized, type Session } from "../api/client";
import { ErrorState } from "../components/ErrorState";
import { LoadingState } from "../components/LoadingState";
import { SignInPage } from "../components/SignInPage";

// Whether this browser signed in, so a first visit shows the sign-in page without asking the
// API (and logging a 401). Never the key: that lives only in the HttpOnly session cookie.
const SIGNED_IN_HINT = "flowdeck.signedIn";

type SessionState =
  | { status: "checking" }
  | { status: "check-failed"; error: unknown }
  | { status: "signed-out"; notice?: string }
  | { status: "signed-in"; session: Session };

interface SessionContextValue {
  session: Session;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<SessionContextValue | null>(null);

/** The signed-in key (name, role, tenant) and how to sign out; only under `SessionProvider`. */
export function useSession(): SessionContextValue {
  const value = useContext(SessionContext);
  if (value === null) throw new Error("useSession outside SessionProvider");
  return value;
}

async function currentSession(): Promise<SessionState> {
  if (localStorage.getItem(SIGNED_IN_HINT) === null) return { status: "signed-out" };
  try {
    return { status: "signed-in", session: await call(api.GET("/api/session")) };
  } catch (error) {
    if (error instanceof ApiProblem && error.status === 401) {
      localStorage.removeItem(SIGNED_IN_HINT);
      return { status: "signed-out", notice: "Your session has ended. Sign in again." };
    }
    return { status: "check-failed", error };
  }
}

/** Shows the sign-in page until a key is signed in, then `children` with the session. */
export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<SessionState>({ status: "checking" });

  const check = useCallback(() => {
    setState({ status: "checking" });
    void currentSession().then(setState);
  }, []);
  useEffect(check, [check]);

  useEffect(
    () =>
      onUnauthorized(() => {
        localStorage.removeItem(SIGNED_IN_HINT);
        setState({ status: "signed-out", notice: "Your session has ended. Sign in again." });
      }),
    [],
  );

  const signIn = useCallback(async (key: string) => {
    const session = await call(api.POST("/api/session", { body: { key } }));
    localStorage.setItem(SIGNED_IN_HINT, "1");
    setState({ status: "signed-in", session });
  }, []);

  const signOut = useCallback(async () => {
    await call(api.DELETE("/api/session"));
    localStorage.removeItem(SIGNED_IN_HINT);
    setState({ status: "signed-out", notice: "You are signed out." });
  }, []);

  const value = useMemo(
    () => (state.status === "signed-in" ? { session: state.session, signOut } : null),
    [state, signOut],
  );

  switch (state.status) {
    case "checking":
      return <LoadingState label="Checking your session…" page />;
    case "check-failed":
      return <ErrorState title="Cannot check your session" error={state.error} onRetry={check} page />;
    case "signed-out":
      return <SignInPage onSignIn={signIn} notice={state.notice} />;
    case "signed-in":
      return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
  }
}
