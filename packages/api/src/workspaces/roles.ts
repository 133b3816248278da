// The roles a workspace member holds, in order. Pure and browser-safe: the procedure ladder (trpc.ts), the membership
// services and the web app's permission checks all read this one order.

export const ROLES = ["VIEWER", "EDITOR", "ADMIN", "OWNER"] as const;
export type Role = (typeof ROLES)[number];

const RANK: Record<Role, number> = { VIEWER: 0, EDITOR: 1, ADMIN: 2, OWNER: 3 };

export function roleAtLeast(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}

/**
 * Whether a member of role `actor` may give someone `role`, or change or remove a member who holds it: owners any role,
 * admins up to admin, editors and viewers none. (The ladder already keeps those below admin out.)
 */
export function mayGrant(actor: Role, role: Role): boolean {
  if (actor === "OWNER") return true;
  return actor === "ADMIN" && role !== "OWNER";
}
