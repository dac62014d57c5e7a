/**
 * Point lots: each earning is a lot, spent earliest-expiry first and expired on time.
 * Spending is computed in SQL when the unit runs, from the lots as they are then, so concurrent
 * redemptions never plan against a stale picture; the balance CHECK decides who runs short.
 */
import { and, asc, eq, gt, lt, sql } from "drizzle-orm";
import { rendered, type Statement } from "../../db/database.ts";
import { abortUnitIf } from "./ledger.ts";
import { lotMovements, pointLots } from "../../db/schema.ts";
import type { Deps } from "../deps.ts";
import { newId } from "../lib/ids.ts";
import { LostRace } from "./ledger.ts";

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
  return abortUnitIf(txnId, "lots", rendered`(SELECT COALESCE(SUM(points), 0) FROM lot_movements WHERE txn_id = ${txnId}) <> ${expected}`);
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
 *
 * What the purchase's refunds already gave back is read in one statement and must add up to the
 * purchase row's `restoredPoints`, which the refund's guard holds at commit. If it does not, a
 * refund committed between the two reads: the plan lost that race (LostRace) and is made again.
 */
export async function planRestore(deps: Deps, purchase: { id: string; txnId: string; restoredPoints: number }, points: number): Promise<LotMove[]> {
  const { db } = deps.database;
  const draws = await db
    .select({
      lotId: lotMovements.lotId,
      drawn: sql<number>`-${lotMovements.points}`,
      expiresAt: pointLots.expiresAt,
      given: sql<number>`COALESCE((SELECT SUM(m.points) FROM lot_movements m JOIN ledger_transactions t ON t.id = m.txn_id
               WHERE m.lot_id = ${lotMovements.lotId} AND m.points > 0 AND t.purchase_id = ${purchase.id} AND t.kind IN ('refund', 'void')), 0)`,
    })
    .from(lotMovements)
    .innerJoin(pointLots, eq(pointLots.id, lotMovements.lotId))
    .where(and(eq(lotMovements.txnId, purchase.txnId), lt(lotMovements.points, 0)))
    .orderBy(asc(lotMovements.id));
  const given = draws.reduce((n, d) => n + Number(d.given), 0);
  if (given !== purchase.restoredPoints) {
    throw new LostRace(`purchase ${purchase.id} has ${given} points restored, not the ${purchase.restoredPoints} its row said: a refund committed meanwhile`);
  }
  const expiry = (d: (typeof draws)[number]) => d.expiresAt ?? Number.MAX_SAFE_INTEGER;
  const moves: LotMove[] = [];
  let left = points;
  // Array sort is stable: lots that expire together are given back in the order they were drawn.
  for (const draw of [...draws].sort((a, b) => expiry(b) - expiry(a))) {
    if (left === 0) break;
    const back = Math.min(left, Math.max(0, Number(draw.drawn) - Number(draw.given)));
    if (back > 0) moves.push({ lotId: draw.lotId, points: back });
    left -= back;
  }
  // Consistent reads always have room: the purchase drew its redeemed points, and restores never pass them.
  if (left !== 0) throw new Error(`cannot restore ${points} points: the purchase drew fewer`);
  return moves;
}
