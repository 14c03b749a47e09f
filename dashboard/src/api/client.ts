// The typed API client. `schema.d.ts` is generated from the app's OpenAPI description by
// `flowdeck dashboard build`: a route that changes breaks `tsc`, not the page.
import createClient, { type Middleware } from "openapi-fetch";

import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type Flow = Schemas["FlowOut"];
export type Session = Schemas["SessionOut"];
export type Role = Session["role"];

/** What went wrong with a request, in the API's words (`{"error": {code, message, details}}`). */
export class ApiProblem extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Schemas["ErrorDetail"][];

  constructor(status: number, code: string, message: string, details: Schemas["ErrorDetail"][] = []) {
    super(message);
    this.name = "ApiProblem";
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

const unauthorizedListeners = new Set<() => void>();

/** Called when a request is refused for want of a live session (it expired, or was revoked). */
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

const sessionWatch: Middleware = {
  onResponse({ request, response }) {
    const signingIn = new URL(request.url).pathname === "/api/session" && request.method !== "GET";
    if (response.status === 401 && !signingIn) {
      unauthorizedListeners.forEach((listener) => listener());
    }
    return undefined;
  },
};

// Same origin: the session cookie (HttpOnly, SameSite=Strict) goes with every request, and
// the browser adds our Origin to every change, as the API requires.
export const api = createClient<paths>({ baseUrl: window.location.origin, credentials: "same-origin" });
api.use(sessionWatch);

function isErrorEnvelope(body: unknown): body is Schemas["ErrorResponse"] {
  if (typeof body !== "object" || body === null || !("error" in body)) return false;
  const error = (body as { error: unknown }).error;
  return typeof error === "object" && error !== null && "message" in error;
}

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The answer's data, or an `ApiProblem` carrying the API's own message. */
export async function call<T>(request: Promise<Answer<T>>): Promise<T> {
  let answer: Answer<T>;
  try {
    answer = await request;
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new ApiProblem(0, "network", `Cannot reach the Flowdeck API (${reason}).`);
  }
  const { data, error, response } = answer;
  if (!response.ok) {
    if (isErrorEnvelope(error)) {
      const { code, message, details } = error.error;
      throw new ApiProblem(response.status, code, message, details ?? []);
    }
    throw new ApiProblem(response.status, "http", `The API answered ${response.status} ${response.statusText}.`);
  }
  return data as T;
}

/** A message for any error a request or a parse may throw. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
