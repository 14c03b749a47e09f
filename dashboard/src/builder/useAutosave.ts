import { useCallback, useEffect, useRef, useState } from "react";

import { ApiProblem, api, call, type Schemas } from "../api/client";
import type { FlowDefinition } from "../canvas/types";

type Version = Schemas["VersionOut"];

export type SaveStatus =
  | { kind: "idle" }
  | { kind: "pending" }
  | { kind: "saving" }
  | { kind: "saved" }
  | { kind: "failed"; error: unknown; conflict: boolean };

const DEBOUNCE_MS = 600;

interface AutosaveOptions {
  flowId: string;
  /** The version the document was loaded from (a draft is updated; any other starts a new one). */
  version: Version | null;
  definition: FlowDefinition;
  /** The document as the version holds it: nothing to save while they are the same. */
  loaded: FlowDefinition;
  enabled: boolean;
  onSaved: (version: Version) => void;
}

/** Saves the draft as you go: each change, 600 ms after the last one, as a `partial` draft
 * (a new one the first time a published version is edited). One request at a time; a failure
 * keeps the edits and says why, and the next change (or `retry`) tries again. */
export function useAutosave({ flowId, version, definition, loaded, enabled, onSaved }: AutosaveOptions) {
  const [status, setStatus] = useState<SaveStatus>({ kind: "idle" });
  const saved = useRef<FlowDefinition>(loaded);
  const target = useRef<Version | null>(version);
  const latest = useRef(definition);
  const inFlight = useRef(false);
  const timer = useRef<number | undefined>(undefined);
  const onSavedRef = useRef(onSaved);
  onSavedRef.current = onSaved;
  latest.current = definition;
  const enabledRef = useRef(enabled);
  enabledRef.current = enabled;

  // Another version opened (published, rolled back, picked in the history): start from it.
  // Keyed on `loaded` alone: a save's answer changes `version`, not what was loaded.
  useEffect(() => {
    saved.current = loaded;
    target.current = version;
    setStatus({ kind: "idle" });
  }, [loaded]);

  const save = useCallback(async () => {
    if (inFlight.current) return;
    const sending = latest.current;
    if (sending === saved.current) {
      setStatus((s) => (s.kind === "pending" ? { kind: "saved" } : s));
      return;
    }
    inFlight.current = true;
    setStatus({ kind: "saving" });
    try {
      const body = { definition: sending, partial: true };
      const draft = target.current?.status === "draft" ? target.current : null;
      const answer = draft
        ? await call(api.PUT("/api/flows/{flow_id}/versions/{number}", { params: { path: { flow_id: flowId, number: draft.number } }, body }))
        : await call(api.POST("/api/flows/{flow_id}/versions", { params: { path: { flow_id: flowId } }, body }));
      saved.current = sending;
      target.current = answer;
      onSavedRef.current(answer);
      inFlight.current = false;
      if (latest.current !== sending) {
        setStatus({ kind: "pending" });
        void save();
      } else setStatus({ kind: "saved" });
    } catch (error) {
      inFlight.current = false;
      // The draft is a draft no more (published or rolled back elsewhere): the next attempt
      // saves the edits as a new draft instead.
      const conflict = error instanceof ApiProblem && error.status === 409 && target.current?.status === "draft";
      if (conflict && target.current) target.current = { ...target.current, status: "superseded" };
      setStatus({ kind: "failed", error, conflict });
    }
  }, [flowId]);

  useEffect(() => {
    if (!enabled) return;
    window.clearTimeout(timer.current);
    if (definition === saved.current) {
      // Undone back to what is saved: nothing to send.
      setStatus((s) => (s.kind === "pending" ? { kind: "saved" } : s));
      return;
    }
    setStatus((s) => (s.kind === "saving" ? s : { kind: "pending" }));
    timer.current = window.setTimeout(() => void save(), DEBOUNCE_MS);
    return () => window.clearTimeout(timer.current);
  }, [definition, enabled, save]);

  const dirty = definition !== saved.current;
  // Leaving the page with edits not yet sent: send them now, and let the browser ask first
  // when the tab itself is closing.
  useEffect(() => () => void (latest.current !== saved.current && enabledRef.current && save()), [save]);
  useEffect(() => {
    if (!dirty || !enabled) return;
    const warn = (event: BeforeUnloadEvent) => event.preventDefault();
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [dirty, enabled]);

  const retry = useCallback(() => void save(), [save]);
  return { status, dirty, retry };
}
