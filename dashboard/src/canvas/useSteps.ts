import { api, call } from "../api/client";
import { useResource } from "../api/useResource";
import type { StepInfo } from "./types";

let catalogue: Promise<StepInfo[]> | null = null;

function loadSteps(): Promise<StepInfo[]> {
  // Asked once per page load: the catalogue cannot change while the API runs. A failure is
  // forgotten so that "Try again" asks again.
  catalogue ??= call(api.GET("/api/steps")).catch((error: unknown) => {
    catalogue = null;
    throw error;
  });
  return catalogue;
}

/** The step catalogue (GET /api/steps), loaded once per page and shared by every canvas. */
export function useSteps() {
  return useResource(loadSteps, []);
}
