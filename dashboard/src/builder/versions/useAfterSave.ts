import { useCallback, useEffect, useState } from "react";

interface Queued {
  label: string;
  run: () => void;
}

/** Runs an action once the editor's pending edits are saved (at once when there are none):
 * publishing or testing must act on the draft as the user sees it. `waitingFor` names the
 * action held back, for the page to say so. */
export function useAfterSave(dirty: boolean) {
  const [queued, setQueued] = useState<Queued | null>(null);

  useEffect(() => {
    if (!dirty && queued) {
      setQueued(null);
      queued.run();
    }
  }, [dirty, queued]);

  const whenSaved = useCallback(
    (label: string, run: () => void) => {
      if (dirty) setQueued({ label, run });
      else run();
    },
    [dirty],
  );
  const cancel = useCallback(() => setQueued(null), []);
  return { whenSaved, waitingFor: queued?.label ?? null, cancel };
}
