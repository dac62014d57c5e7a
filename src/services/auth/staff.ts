/** Staff users (admins and marketers) who sign in with a password. */
import { eq } from "drizzle-orm";
import { staffUsers } from "../../../db/schema.ts";
import type { Deps } from "../../deps.ts";
import { AppError } from "../../errors.ts";
import { hashPassword } from "../../lib/crypto.ts";
import { newId } from "../../lib/ids.ts";
import { insertAudited } from "../../store/audit.ts";
import type { Principal } from "../../domain/principal.ts";
import { newestFirst } from "../../store/page.ts";
import { isoTime } from "../../lib/time.ts";

type StaffRow = typeof staffUsers.$inferSelect;

export async function createStaffUser(
  deps: Deps,
  actor: Principal,
  input: { email: string; name: string; role: "admin" | "marketer"; password: string },
) {
  const email = input.email.trim().toLowerCase();
  const [existing] = await deps.database.db.select({ id: staffUsers.id }).from(staffUsers).where(eq(staffUsers.email, email));
  if (existing) throw new AppError("staff_exists", "A staff user with this email exists.", { staffId: existing.id });
  const now = deps.clock();
  const row: StaffRow = {
    id: newId("staff", now),
    email,
    name: input.name,
    role: input.role,
    passwordHash: await hashPassword(input.password),
    status: "active",
    createdAt: now,
    updatedAt: now,
  };
  await insertAudited(deps, actor, staffUsers, row, "staff.create", { type: "staff", id: row.id });
  return toStaffView(row);
}

export async function listStaff(deps: Deps, page: { cursor?: string | undefined; limit: number }) {
  const result = await newestFirst(deps.database.db, staffUsers, page);
  return { items: result.items.map(toStaffView), nextCursor: result.nextCursor };
}

export function toStaffView(row: StaffRow) {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    status: row.status,
    createdAt: isoTime(row.createdAt),
  };
}
