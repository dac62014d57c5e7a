/** Who is calling. Resolved once per request from the bearer credential (see services/auth/auth.ts). */
export type Role = "admin" | "marketer" | "partner" | "member";

export type Principal =
  | { role: "anonymous" }
  | { role: "admin" | "marketer"; staffId: string }
  | { role: "partner"; partnerId: string; keyId: string; scopes: string[] }
  | { role: "member"; memberId: string };

/** The bootstrap ADMIN_TOKEN acts as this staff id in audit records. */
export const BOOTSTRAP_ADMIN_ID = "bootstrap-admin";
