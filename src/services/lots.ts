/**
 * Point lots: each earning is a lot, spent earliest-expiry first and expired on time.
 * Spending is computed in SQL when the unit runs, from the lots as they are then, so concurrent
 * redemptions never plan against a stale picture; the balance CHECK decides who runs short.
 */
import { and, asc, eq, gt, inArray, sql } from "drizzle-orm";
import { rendered, type Statement } from "../../db/database.ts";
import { lotMovements, pointLots } from "../../db/schema.ts";
import type { Deps } from "../deps.ts";
import { newId } from "../lib/ids.ts";

/**
 * Draws `points` from the member's available lots, earliest expiry first (never-expiring last),
 * records each draw in lot_movements, and aborts the unit if the lots held fewer than `points`
 * (the guard inserts a zero entry, which the ledger's CHECK refuses).
 */
export function spendFromLots(txnId: string, memberId: string, points: number): Statement[] {
  if (points <= 0) return [];
  return [
    rendered`INSERT INTO lot_movements (txn_id, lot_id, points)
        SELECT ${txnId}, id, -MIN(remaining, ${points} - (running - remaining))
        FROM (SELECT id, remaining, SUM(remaining) OVER (ORDER BY expires_at IS NULL, expires_at, earned_at, id) AS running
              FROM point_lots
              WHERE member_id = ${memberId} AND remaining > 0 AND released_at IS NOT NULL)
        WHERE running - remaining < ${points}`,
    rendered`UPDATE point_lots
        SET remaining = remaining + (SELECT m.points FROM lot_movements m WHERE m.txn_id = ${txnId} AND m.lot_id = point_lots.id)
        WHERE id IN (SELECT lot_id FROM lot_movements WHERE txn_id = ${txnId})`,
    guardLotTotal(txnId, -points),
  ];
}

/** Aborts the unit unless this transaction's lot movements add up to `expected`. */
function guardLotTotal(txnId: string, expected: number): Statement {
  return rendered`INSERT INTO ledger_entries (txn_id, account, points)
             SELECT ${txnId}, 'guard:lots', 0
             WHERE (SELECT COALESCE(SUM(points), 0) FROM lot_movements WHERE txn_id = ${txnId}) <> ${expected}`;
}

export interface NewLot {
  memberId: string;
  txnId: string;
  points: number;
  earnedAt: number;
  availableAt: number;
  expiresAt: number | null;
}

export function createLot(deps: Deps, lot: NewLot): Statement {
  const releasedAt = lot.availableAt <= deps.clock() ? deps.clock() : null;
  return rendered`INSERT INTO point_lots (id, member_id, txn_id, points, remaining, earned_at, available_at, released_at, expires_at)
             VALUES (${newId("lot", lot.earnedAt)}, ${lot.memberId}, ${lot.txnId}, ${lot.points}, ${lot.points},
                     ${lot.earnedAt}, ${lot.availableAt}, ${releasedAt}, ${lot.expiresAt})`;
}

export interface LotMove {
  lotId: string;
  points: number;
}

/** Applies planned moves to lots (relative, so the lots' CHECKs catch a lost race). */
export function moveLots(deps: Deps, txnId: string, moves: LotMove[]): Statement[] {
  const { db } = deps.database;
  return moves
    .filter((m) => m.points !== 0)
    .flatMap((m) => [
      db.insert(lotMovements).values({ txnId, lotId: m.lotId, points: m.points }),
      db.update(pointLots).set({ remaining: sql`${pointLots.remaining} + ${m.points}` }).where(eq(pointLots.id, m.lotId)),
    ]);
}

export interface ClawPlan {
  moves: LotMove[];
  fromAvailable: number;
  fromPending: number;
  /** What could not be taken back: it becomes the member's debt. */
  shortfall: number;
}

/**
 * Takes back `points` earned by a purchase: first from the lot that purchase created, then from
 * the member's other available lots (earliest expiry first); what is already spent becomes debt.
 */
export async function planClawBack(deps: Deps, memberId: string, purchaseTxnId: string, points: number): Promise<ClawPlan> {
  const { db } = deps.database;
  const lots = await db
    .select()
    .from(pointLots)
    .where(and(eq(pointLots.memberId, memberId), gt(pointLots.remaining, 0)))
    .orderBy(sql`${pointLots.expiresAt} IS NULL`, asc(pointLots.expiresAt), asc(pointLots.earnedAt), asc(pointLots.id));
  const own = lots.filter((l) => l.txnId === purchaseTxnId);
  const others = lots.filter((l) => l.txnId !== purchaseTxnId && l.releasedAt !== null);
  const plan: ClawPlan = { moves: [], fromAvailable: 0, fromPending: 0, shortfall: 0 };
  let left = points;
  for (const lot of [...own, ...others]) {
    if (left === 0) break;
    const take = Math.min(left, lot.remaining);
    plan.moves.push({ lotId: lot.id, points: -take });
    if (lot.releasedAt === null) plan.fromPending += take;
    else plan.fromAvailable += take;
    left -= take;
  }
  plan.shortfall = left;
  return plan;
}

/**
 * Gives back `points` redeemed by a purchase to the lots they came from, latest expiry first.
 * Points returned to a lot that has meanwhile expired leave again at the next expiry run.
 */
export async function planRestore(deps: Deps, purchaseTxnId: string, refundTxnIds: string[], points: number): Promise<LotMove[]> {
  const { db } = deps.database;
  const drawn = await db.select().from(lotMovements).where(and(eq(lotMovements.txnId, purchaseTxnId), sql`${lotMovements.points} < 0`));
  const given = refundTxnIds.length
    ? await db.select().from(lotMovements).where(and(inArray(lotMovements.txnId, refundTxnIds), gt(lotMovements.points, 0)))
    : [];
  const lots = drawn.length
    ? await db.select({ id: pointLots.id, expiresAt: pointLots.expiresAt }).from(pointLots).where(inArray(pointLots.id, drawn.map((d) => d.lotId)))
    : [];
  const expiry = new Map(lots.map((l) => [l.id, l.expiresAt ?? Number.MAX_SAFE_INTEGER]));
  const moves: LotMove[] = [];
  let left = points;
  for (const draw of [...drawn].sort((a, b) => (expiry.get(b.lotId) ?? 0) - (expiry.get(a.lotId) ?? 0))) {
    if (left === 0) break;
    const returned = given.filter((g) => g.lotId === draw.lotId).reduce((n, g) => n + g.points, 0);
    const room = -draw.points - returned;
    const back = Math.min(left, Math.max(0, room));
    if (back > 0) moves.push({ lotId: draw.lotId, points: back });
    left -= back;
  }
  if (left !== 0) throw new Error(`cannot restore ${points} points: the purchase drew fewer`);
  return moves;
}
