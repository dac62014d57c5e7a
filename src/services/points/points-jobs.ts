/**
 * The scheduled work on points: release pending points, expire what is due, warn members before
 * their points expire, requalify tiers, and forget old idempotency records. Every step is computed
 * from the rows as they are when its unit runs, so running the job twice (or in two places at
 * once) moves nothing twice.
 */
import { and, asc, eq, gt, isNotNull, isNull, lte, sql } from "drizzle-orm";
import { isConstraintViolation, rendered, type Statement } from "../../../db/database.ts";
import { members, pointLots } from "../../../db/schema.ts";
import type { Deps } from "../../deps.ts";
import { localDate } from "../../domain/expiry.ts";
import { newId } from "../../lib/ids.ts";
import { interactionStatement } from "../../store/interactions.ts";
import { expiryProfileStatements } from "../../store/profiles.ts";
import type { Principal } from "../../domain/principal.ts";
import { purgeIdempotencyKeys } from "../idempotency/keys.ts";
import { accounts, transactionRow } from "../../store/ledger.ts";
import { deliverPendingWithDevSender } from "../outbox/outbox.ts";
import { currentProgram } from "../program/program.ts";
import { membersDueForRequalification, qualifyingPoints, tierStatements } from "../../store/tiers.ts";
import { DAY_MS } from "../../lib/time.ts";

const SYSTEM: Principal = { role: "admin", staffId: "system-scheduler" };
const BATCH = 200;

export interface PointsJobReport {
  released: number;
  expired: number;
  notices: number;
  tierChanges: number;
  idempotencyKeysPurged: number;
}

/** Distinct members with lots matching `where`, a batch at a time. */
async function membersWithLots(deps: Deps, where: ReturnType<typeof and>) {
  const rows = await deps.database.db.selectDistinct({ memberId: pointLots.memberId }).from(pointLots).where(where).limit(BATCH);
  return rows.map((r) => r.memberId);
}

/** The transaction row of a job's movement (its entries are computed in SQL when it runs). */
function systemTransaction(deps: Deps, txn: { id: string; memberId: string; kind: "release" | "expire"; reasonCode: string; description: string }) {
  return transactionRow(deps, { ...txn, actor: SYSTEM, occurredAt: deps.clock() });
}

/** Two entries moving `amount` (SQL, evaluated when the unit runs) from one account to another. */
function moveEntries(txnId: string, from: string, to: string, amount: ReturnType<typeof sql>) {
  return [
    sql`INSERT INTO ledger_entries (txn_id, account, points) VALUES (${txnId}, ${from}, -(${amount}))`,
    sql`INSERT INTO ledger_entries (txn_id, account, points) VALUES (${txnId}, ${to}, (${amount}))`,
  ];
}

/** Another run got there first: the unit found nothing to move and its zero entry was refused. */
const nothingLeft = (error: unknown) => isConstraintViolation(error, "CHECK", "ledger_entries_nonzero");

/**
 * A job's loop: one unit per member with lots matching `where`, a batch at a time. A unit that
 * another run got to first moves nothing and counts for nothing.
 */
async function forEachMemberWithLots(deps: Deps, where: ReturnType<typeof and>, unitOf: (memberId: string) => Promise<Statement[]>): Promise<number> {
  let count = 0;
  for (const memberId of await membersWithLots(deps, where)) {
    try {
      await deps.database.atomic(await unitOf(memberId));
      count++;
    } catch (error) {
      if (!nothingLeft(error)) throw error;
    }
  }
  return count;
}

async function releasePending(deps: Deps): Promise<number> {
  const now = deps.clock();
  return forEachMemberWithLots(deps, and(isNull(pointLots.releasedAt), lte(pointLots.availableAt, now)), async (memberId) => {
    const due = sql`(SELECT COALESCE(SUM(remaining), 0) FROM point_lots WHERE member_id = ${memberId} AND released_at IS NULL AND available_at <= ${now})`;
    const txnId = newId("transaction", now);
    return [
      systemTransaction(deps, { id: txnId, memberId, kind: "release", reasonCode: "pending_released", description: "Pending points became available" }),
      ...moveEntries(txnId, accounts.pending(memberId), accounts.member(memberId), due),
      sql`UPDATE member_balances SET pending = pending - ${due}, available = available + ${due}, updated_at = ${now} WHERE member_id = ${memberId}`,
      sql`UPDATE point_lots SET released_at = ${now} WHERE member_id = ${memberId} AND released_at IS NULL AND available_at <= ${now}`,
    ];
  });
}

async function expireDue(deps: Deps): Promise<number> {
  const now = deps.clock();
  const { program } = await currentProgram(deps);
  const dueWhere = and(isNotNull(pointLots.releasedAt), gt(pointLots.remaining, 0), lte(pointLots.expiresAt, now));
  return forEachMemberWithLots(deps, dueWhere, async (memberId) => {
    const lots = await deps.database.db.select({ earnedAt: pointLots.earnedAt }).from(pointLots).where(and(eq(pointLots.memberId, memberId), dueWhere)).orderBy(asc(pointLots.earnedAt));
    const dates = [...new Set(lots.map((l) => localDate(l.earnedAt, program.utcOffsetMinutes)))];
    const txnId = newId("transaction", now);
    const moved = sql`(SELECT COALESCE(-SUM(points), 0) FROM lot_movements WHERE txn_id = ${txnId})`;
    return [
      systemTransaction(deps, { id: txnId, memberId, kind: "expire", reasonCode: "expired", description: `Expired — earned ${dates.join(", ")}` }),
      sql`INSERT INTO lot_movements (txn_id, lot_id, points)
          SELECT ${txnId}, id, -remaining FROM point_lots
          WHERE member_id = ${memberId} AND released_at IS NOT NULL AND remaining > 0 AND expires_at <= ${now}`,
      ...moveEntries(txnId, accounts.member(memberId), accounts.breakage, moved),
      sql`UPDATE member_balances SET available = available - ${moved}, updated_at = ${now} WHERE member_id = ${memberId}`,
      ...expiryProfileStatements(deps.clock(), { memberId, points: moved }),
      // The points the lots lost: their movements' sum, negative.
      interactionStatement(deps.clock(), { memberId, kind: "points_expired", channel: "system", points: rendered`(SELECT COALESCE(SUM(points), 0) FROM lot_movements WHERE txn_id = ${txnId})`, reference: txnId, occurredAt: now }),
      sql`UPDATE point_lots SET remaining = 0 WHERE id IN (SELECT lot_id FROM lot_movements WHERE txn_id = ${txnId})`,
    ];
  });
}

/** Tells members, once per lot, that points expire within the program's notice days. */
async function sendExpiryNotices(deps: Deps): Promise<number> {
  const now = deps.clock();
  const { program } = await currentProgram(deps);
  if (program.expiryNoticeDays === 0) return 0;
  const horizon = now + program.expiryNoticeDays * DAY_MS;
  const dueWhere = and(isNotNull(pointLots.releasedAt), gt(pointLots.remaining, 0), isNull(pointLots.noticeSentAt), lte(pointLots.expiresAt, horizon), gt(pointLots.expiresAt, now));
  let count = 0;
  for (const memberId of await membersWithLots(deps, dueWhere)) {
    const lots = await deps.database.db.select().from(pointLots).where(and(eq(pointLots.memberId, memberId), dueWhere));
    const [member] = await deps.database.db.select().from(members).where(eq(members.id, memberId));
    if (!member || lots.length === 0) continue;
    const points = lots.reduce((n, l) => n + l.remaining, 0);
    const first = Math.min(...lots.map((l) => l.expiresAt!));
    const unmarked = sql`EXISTS (SELECT 1 FROM point_lots WHERE id IN ${lots.map((l) => l.id)} AND notice_sent_at IS NULL)`;
    // The notice is written only while its lots are unmarked, then they are marked: a concurrent
    // or repeated run sends nothing twice.
    const [sent] = await deps.database.atomic([
      sql`INSERT INTO outbox (id, member_id, channel, recipient, subject, body, kind, status, created_at)
          SELECT ${newId("message", now)}, ${memberId}, ${member.email ? "email" : "sms"}, ${(member.email ?? member.phone)!},
                 'Your dangol points are about to expire',
                 ${`${points} points expire from ${localDate(first, program.utcOffsetMinutes)}. Use them at any partner before then.`},
                 'points_expiry_notice', 'pending', ${now}
          WHERE ${unmarked}`,
      sql`UPDATE point_lots SET notice_sent_at = ${now} WHERE id IN ${lots.map((l) => l.id)} AND notice_sent_at IS NULL`,
    ]);
    if (sent) count++;
  }
  return count;
}

async function requalifyTiers(deps: Deps): Promise<number> {
  const { program } = await currentProgram(deps);
  let count = 0;
  for (const member of await membersDueForRequalification(deps, BATCH)) {
    const statements = tierStatements(deps, program, member, await qualifyingPoints(deps, member.memberId), member.spendTier);
    if (statements.length) {
      await deps.database.atomic(statements);
      count++;
    }
  }
  return count;
}

export async function runPointsJobs(deps: Deps): Promise<PointsJobReport> {
  const released = await releasePending(deps);
  const expired = await expireDue(deps);
  const notices = await sendExpiryNotices(deps);
  const tierChanges = await requalifyTiers(deps);
  const idempotencyKeysPurged = await purgeIdempotencyKeys(deps);
  await deliverPendingWithDevSender(deps);
  return { released, expired, notices, tierChanges, idempotencyKeysPurged };
}
