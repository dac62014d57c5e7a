/**
 * The ledger's building blocks: account names, a transaction as statements, balance changes.
 * Every movement of points is one transaction whose entries sum to zero, written in the same
 * atomic unit as the balance change it explains.
 */
import { eq, sql } from "drizzle-orm";
import { isConstraintViolation, prepared, rendered, type RenderedStatement, type Statement } from "../../db/database.ts";
import { ledgerTransactions, memberBalances } from "../../db/schema.ts";
import type { Deps } from "../deps.ts";
import { AppError } from "../errors.ts";
import { actorIdOf } from "./audit.ts";
import { completion, type Claim } from "./idempotency.ts";
import type { Principal } from "../domain/principal.ts";

export const accounts = {
  /** The member's available points. */
  member: (memberId: string) => `member:${memberId}`,
  /** Earned, not yet available (the program's pending days). */
  pending: (memberId: string) => `member_pending:${memberId}`,
  /** Negative while the member owes clawed-back points. */
  debt: (memberId: string) => `member_debt:${memberId}`,
  /** What a partner issued: its liability to the program (negative as it issues). */
  issuance: (partnerId: string) => `issuance:${partnerId}`,
  /** Points spent at a partner. */
  redemption: (partnerId: string) => `redemption:${partnerId}`,
  breakage: "breakage",
  adjustment: "adjustment",
} as const;

export type TransactionKind = (typeof ledgerTransactions.$inferInsert)["kind"];

export interface TransactionInput {
  id: string;
  memberId: string;
  kind: TransactionKind;
  reasonCode: string;
  description: string;
  actor: Principal;
  occurredAt: number;
  partnerId?: string | null;
  purchaseId?: string | null;
  correctsTxnId?: string | null;
  reversesTxnId?: string | null;
}

export interface Entry {
  account: string;
  points: number;
}

/**
 * The transaction row and its entries. Zero entries are dropped; what remains must sum to zero
 * and be at least two (a purchase that moves no points keeps its transaction with no entries).
 */
export function transactionStatements(deps: Deps, txn: TransactionInput, entries: Entry[]): Statement[] {
  const moving = entries.filter((e) => e.points !== 0);
  const sum = moving.reduce((n, e) => n + e.points, 0);
  if (sum !== 0 || moving.length === 1) {
    throw new Error(`unbalanced ledger transaction ${txn.kind}: ${JSON.stringify(moving)}`);
  }
  // Hand-written SQL: every movement of points runs these, and drizzle's builder spends more
  // time generating SQL than SQLite spends executing it.
  return [
    transactionRow(deps, txn),
    ...moving.map((e) => rendered`INSERT INTO ledger_entries (txn_id, account, points) VALUES (${txn.id}, ${e.account}, ${e.points})`),
  ];
}

/**
 * The transaction row alone, for the jobs, whose entries are computed in SQL when the unit runs
 * (transactionStatements checks the balance of entries it is given).
 */
export function transactionRow(deps: Deps, txn: TransactionInput): Statement {
  return rendered`INSERT INTO ledger_transactions (id, member_id, kind, reason_code, description, partner_id, purchase_id, corrects_txn_id, reverses_txn_id, actor_type, actor_id, occurred_at, created_at)
             VALUES (${txn.id}, ${txn.memberId}, ${txn.kind}, ${txn.reasonCode}, ${txn.description}, ${txn.partnerId ?? null}, ${txn.purchaseId ?? null},
                     ${txn.correctsTxnId ?? null}, ${txn.reversesTxnId ?? null}, ${txn.actor.role}, ${actorIdOf(txn.actor)}, ${txn.occurredAt}, ${deps.clock()})`;
}

export interface BalanceDelta {
  available?: number;
  pending?: number;
  debt?: number;
}

/** A relative update: concurrent units compose, and the CHECKs (available ≥ 0 …) decide races. */
export function balanceStatement(deps: Deps, memberId: string, delta: BalanceDelta): Statement {
  return rendered`UPDATE member_balances
             SET available = available + ${delta.available ?? 0}, pending = pending + ${delta.pending ?? 0},
                 debt = debt + ${delta.debt ?? 0}, updated_at = ${deps.clock()}
             WHERE member_id = ${memberId}`;
}

export async function balanceOf(deps: Deps, memberId: string) {
  const query = prepared(deps.database.db, "balances.byMember", (db) => db.select().from(memberBalances).where(eq(memberBalances.memberId, sql.placeholder("memberId"))).prepare());
  const row = await query.get({ memberId });
  return row ?? { memberId, available: 0, pending: 0, debt: 0, updatedAt: 0 };
}

/** The member's balance as the response reports it. */
export async function balanceView(deps: Deps, memberId: string) {
  const balance = await balanceOf(deps, memberId);
  return { available: balance.available, pending: balance.pending };
}

/**
 * Commits a movement of points. With an Idempotency-Key, the stored response is completed in the
 * same unit, its balance read inside the unit, so a replay returns exactly what was acknowledged.
 */
export async function commitMovement(
  deps: Deps,
  unit: { statements: Statement[]; claim: Claim | null; status: number; response: object; memberId: string },
): Promise<void> {
  const statements = [...unit.statements];
  if (unit.claim) {
    statements.push(
      completion(
        unit.claim,
        unit.status,
        rendered`json_set(${JSON.stringify(unit.response)}, '$.balance', json_object(
          'available', (SELECT available FROM member_balances WHERE member_id = ${unit.memberId}),
          'pending', (SELECT pending FROM member_balances WHERE member_id = ${unit.memberId})))`,
      ),
    );
  }
  try {
    await deps.database.atomic(statements);
  } catch (error) {
    if (isConstraintViolation(error, "CHECK", "member_balances_available")) {
      throw new AppError("insufficient_points", "The member does not have that many points available.");
    }
    throw error;
  }
}

/**
 * Aborts the unit it is part of when `condition` holds as the unit runs: it writes a zero ledger
 * entry, which the ledger's CHECK refuses, so the whole list rolls back and withRetries() plans it
 * again. `what` names the guard in the entry's account (`guard:<what>`), should one ever be read.
 */
export function abortUnitIf(txnId: string, what: "cap" | "lots" | "refund", condition: RenderedStatement): Statement {
  return rendered`INSERT INTO ledger_entries (txn_id, account, points) SELECT ${txnId}, ${`guard:${what}`}, 0 WHERE ${condition}`;
}

/**
 * A plan's reads disagree with each other: a concurrent unit committed between them. The unit
 * has lost a race as surely as one whose guard fails when it commits, and is planned again.
 */
export class LostRace extends Error {
  override name = "LostRace";
}

const MAX_ATTEMPTS = 5;
/** The longest pause before planning again: about one group commit. */
const MAX_BACKOFF_MS = 16;

/**
 * Runs a unit again when it lost a race: its guards saw a concurrent change (a lot, a debt or a
 * refund total moved between reading and writing), or its reads disagreed (LostRace). Business
 * refusals (AppError) are never retried. After `attempts` losses the caller is told to retry.
 */
export async function withRetries<T>(attempt: () => Promise<T>, attempts = MAX_ATTEMPTS): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (error instanceof AppError || !(error instanceof LostRace || isConstraintViolation(error, "CHECK"))) throw error;
      if (n >= attempts) throw new AppError("concurrent_update", "The member's points changed while this was being recorded; retry.");
      // The units that lost to one commit would all meet again at the next: each waits a random
      // while first (full jitter), up to twice as long after each loss.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(MAX_BACKOFF_MS, 2 ** n)));
    }
  }
}
