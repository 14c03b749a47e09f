// How the Connections page names auth kinds, secret fields and settings, and places the
// API's problems (`$.secret.token`, `$.settings.base_url`) next to the field they name.

import { ApiProblem, type Schemas } from "../api/client";

export type Connection = Schemas["ConnectionOut"];
export type Integration = Schemas["IntegrationOut"];
export type AuthKind = Schemas["AuthKindOut"];
export type Setting = Schemas["SettingOut"];

export const AUTH_LABELS: Record<string, string> = {
  api_key: "API key",
  bearer: "Bearer token",
  basic: "Username and password",
  oauth2: "OAuth 2 token",
  database_url: "Database URL",
  webhook_url: "Webhook URL",
};

const FIELD_LABELS: Record<string, string> = {
  api_key: "API key",
  token: "Token",
  username: "Username",
  password: "Password",
  access_token: "Access token",
  refresh_token: "Refresh token",
  client_id: "Client ID",
  client_secret: "Client secret",
  token_url: "Token URL",
  expires_at: "Expires at (ISO 8601)",
  url: "URL",
};

/** Secret fields that identify rather than prove (a username, a client id, a token URL, a
 * date): typed in plain text. Every other field is a password input. All are stored
 * encrypted and shown masked afterwards all the same. */
const PLAIN_FIELDS = new Set(["username", "client_id", "token_url", "expires_at"]);

const SETTING_LABELS: Record<string, string> = {
  base_url: "Base URL",
  instance_url: "Instance URL",
  api_version: "API version",
  model: "Default model",
  price_per_1k_input: "Price per 1,000 prompt tokens",
  price_per_1k_output: "Price per 1,000 completion tokens",
  database: "Database",
  from_email: "Default sender email",
  api_key_header: "API key header",
};

export function authLabel(kind: string): string {
  return AUTH_LABELS[kind] ?? kind;
}

export function fieldLabel(name: string): string {
  return FIELD_LABELS[name] ?? name;
}

export function isPlainField(name: string): boolean {
  return PLAIN_FIELDS.has(name);
}

export function settingLabel(name: string): string {
  return SETTING_LABELS[name] ?? name;
}

/** An integration's label ("OpenAI-compatible"), or its name while the list is not there. */
export function integrationLabel(integrations: Integration[] | null, name: string): string {
  return integrations?.find((entry) => entry.integration === name)?.label ?? name;
}

/** A setting's value as the list shows it. */
export function settingValue(value: unknown): string {
  if (value === null || value === undefined) return "—";
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** The API's problems at one path (`$.secret.token`), for the field that path names. */
export function problemsAt(error: unknown, path: string): string[] {
  if (!(error instanceof ApiProblem)) return [];
  return error.details.filter((detail) => detail.path === path).map((detail) => detail.message);
}

/** The problems no field of the form shows (a field it does not have, or no path). */
export function unplacedProblems(error: unknown, shown: readonly string[]): Schemas["ErrorDetail"][] {
  if (!(error instanceof ApiProblem)) return [];
  return error.details.filter((detail) => !detail.path || !shown.includes(detail.path));
}
