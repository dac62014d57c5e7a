/** Audit trail statements, added to the same atomic unit as the change they describe. */
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import { auditLog } from "../../db/schema.ts";
import type { Deps } from "../deps.ts";
import { newId } from "../lib/ids.ts";
import type { Principal } from "../domain/principal.ts";

export function auditStatement(
  deps: Deps,
  actor: Principal,
  action: string,
  target: { type: string; id: string },
  reason?: string,
) {
  const now = deps.clock();
  return deps.database.db.insert(auditLog).values({
    id: newId("audit", now),
    actorType: actor.role,
    actorId: actorIdOf(actor),
    action,
    targetType: target.type,
    targetId: target.id,
    reason: reason ?? null,
    at: now,
  });
}

/** Inserts a row with the audit record of its creation, in one unit: how every "create" is kept. */
export async function insertAudited<T extends SQLiteTable>(
  deps: Deps,
  actor: Principal,
  table: T,
  row: T["$inferInsert"],
  action: string,
  target: { type: string; id: string },
): Promise<void> {
  await deps.database.atomic([deps.database.db.insert(table).values(row), auditStatement(deps, actor, action, target)]);
}

export function actorIdOf(actor: Principal): string {
  switch (actor.role) {
    case "admin":
    case "marketer":
      return actor.staffId;
    case "partner":
      return actor.keyId;
    case "member":
      return actor.memberId;
    case "anonymous":
      return "anonymous";
  }
}
