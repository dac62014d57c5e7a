/** Staff, sessions and the contact a member signs in with. */
import { z } from "@hono/zod-openapi";

export const StaffSchema = z
  .object({ id: z.string(), email: z.string(), name: z.string(), role: z.enum(["admin", "marketer"]), status: z.string(), createdAt: z.string() })
  .openapi("Staff");

export const SessionSchema = z.object({ token: z.string(), expiresAt: z.string() }).openapi("Session");

export const ContactSchema = z.union([
  z.object({ email: z.email().max(254) }).strict(),
  z.object({ phone: z.string().min(4).max(32) }).strict(),
]);
