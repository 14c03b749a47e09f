import type { Role } from "../api/client";

/** Who may change flows (create, edit, enable, reorder, delete): the API's `manager` grant. */
export function canEditFlows(role: Role): boolean {
  return role === "admin" || role === "manager";
}

export const ROLE_LABELS: Record<Role, string> = {
  admin: "Admin",
  manager: "Manager",
  viewer: "Viewer",
  agent: "Agent",
};
