import { ApiProblem, api, call, type Schemas } from "../../api/client";

/** Publish the draft open in the editor. A draft with errors is refused here, at each
 * problem's path, as the API would refuse it; what only the API knows (references to
 * departments, templates, other flows) comes back as its own 422. */
export async function publishDraft(flowId: string, draft: Schemas["VersionOut"]): Promise<Schemas["VersionOut"]> {
  const errors = (draft.problems ?? []).filter((problem) => problem.severity === "error");
  if (errors.length > 0) {
    throw new ApiProblem(
      422,
      "invalid_draft",
      `v${draft.number} is unfinished: fix ${errors.length === 1 ? "this problem" : `these ${errors.length} problems`} before publishing`,
      errors.map(({ path, code, message }) => ({ path, code, message })),
    );
  }
  return call(
    api.POST("/api/flows/{flow_id}/versions/{number}/publish", { params: { path: { flow_id: flowId, number: draft.number } } }),
  );
}
