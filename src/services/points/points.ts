/** A member's points as they see them: balance with the next expiries, history, adjustments. */
import { and, asc, desc, eq, gt, inArray, isNotNull, like, or, sql } from "drizzle-orm";
import { ledgerEntries, ledgerTransactions, pointLots, tierHistory } from "../../../db/schema.ts";
import type { Deps } from "../../deps.ts";
import { expiresAt } from "../../domain/expiry.ts";
import { newId } from "../../lib/ids.ts";
import { auditStatement } from "../../store/audit.ts";
import type { Claim } from "../../store/idempotency.ts";
import { accounts, balanceOf, balanceStatement, balanceView, commitMovement, transactionStatements } from "../../store/ledger.ts";
import { createLot, spendFromLots } from "../../store/lots.ts";
import { findMemberRow } from "../members/members.ts";
import type { Principal } from "../../domain/principal.ts";
import { currentProgram } from "../program/program.ts";
import { qualifyingPoints } from "../../store/tiers.ts";
import { isoTime } from "../../lib/time.ts";
import { newestFirst } from "../../store/page.ts";

export async function memberBalance(deps: Deps, memberId: string) {
  await findMemberRow(deps, memberId);
  const balance = await balanceOf(deps, memberId);
  const expiring = await deps.database.db
    .select({ points: sql<number>`SUM(${pointLots.remaining})`, expiresAt: pointLots.expiresAt })
    .from(pointLots)
    .where(and(eq(pointLots.memberId, memberId), gt(pointLots.remaining, 0), isNotNull(pointLots.expiresAt)))
    .groupBy(pointLots.expiresAt)
    .orderBy(asc(pointLots.expiresAt))
    .limit(5);
  return {
    available: balance.available,
    pending: balance.pending,
    owed: balance.debt,
    expiring: expiring.map((e) => ({ points: Number(e.points), expiresAt: isoTime(e.expiresAt!) })),
  };
}

/**
 * The member's history, newest first: each transaction with what it did to the member's
 * available and pending points, a reason code and a sentence a member understands.
 */
export async function memberLedger(deps: Deps, memberId: string, page: { cursor?: string | undefined; limit: number }) {
  await findMemberRow(deps, memberId);
  const { db } = deps.database;
  const result = await newestFirst(db, ledgerTransactions, page, eq(ledgerTransactions.memberId, memberId));
  const ids = result.items.map((r) => r.id);
  const entries = ids.length
    ? await db
        .select()
        .from(ledgerEntries)
        .where(and(inArray(ledgerEntries.txnId, ids), or(like(ledgerEntries.account, "member:%"), like(ledgerEntries.account, "member_pending:%"), like(ledgerEntries.account, "member_debt:%"))))
    : [];
  const sum = (txnId: string, account: string) => entries.filter((e) => e.txnId === txnId && e.account === account).reduce((n, e) => n + e.points, 0);
  return {
    items: result.items.map((t) => ({
      id: t.id,
      kind: t.kind,
      reasonCode: t.reasonCode,
      description: t.description,
      points: sum(t.id, accounts.member(memberId)),
      pendingPoints: sum(t.id, accounts.pending(memberId)),
      owedPoints: -sum(t.id, accounts.debt(memberId)),
      partnerId: t.partnerId,
      purchaseId: t.purchaseId,
      correctsTransactionId: t.correctsTxnId,
      occurredAt: isoTime(t.occurredAt),
      recordedAt: isoTime(t.createdAt),
    })),
    nextCursor: result.nextCursor,
  };
}

/**
 * An operator's correction: points in or out with a reason, audited. Points given are a new lot
 * that expires like earned points and are available at once; points taken are spent like a
 * redemption and can never take the balance below zero.
 */
export async function adjustPoints(deps: Deps, actor: Principal, memberId: string, input: { points: number; reason: string }, claim: Claim | null) {
  await findMemberRow(deps, memberId);
  const { program } = await currentProgram(deps);
  const now = deps.clock();
  const txnId = newId("transaction", now);
  const statements = [
    ...transactionStatements(
      deps,
      { id: txnId, memberId, kind: "adjust", reasonCode: input.points > 0 ? "adjustment_credit" : "adjustment_debit", description: `Adjusted by the operator: ${input.reason}`, actor, occurredAt: now },
      [
        { account: accounts.member(memberId), points: input.points },
        { account: accounts.adjustment, points: -input.points },
      ],
    ),
    balanceStatement(deps, memberId, { available: input.points }),
    ...(input.points > 0
      ? [createLot(deps, { memberId, txnId, points: input.points, earnedAt: now, availableAt: now, expiresAt: expiresAt(now, program.expiry, program.utcOffsetMinutes) })]
      : spendFromLots(txnId, memberId, -input.points)),
    auditStatement(deps, actor, "points.adjust", { type: "member", id: memberId }, input.reason),
  ];
  const response = { transactionId: txnId, memberId, points: input.points, reason: input.reason };
  await commitMovement(deps, { statements, claim, status: 201, response, memberId });
  return { ...response, balance: await balanceView(deps, memberId) };
}

/** The member's tier, how it stands against the next requalification, and its history. */
export async function memberTier(deps: Deps, memberId: string) {
  const member = await findMemberRow(deps, memberId);
  const history = await deps.database.db.select().from(tierHistory).where(eq(tierHistory.memberId, memberId)).orderBy(desc(tierHistory.at));
  return {
    tier: member.tier,
    requalifyAt: member.tierRequalifyAt === null ? null : isoTime(member.tierRequalifyAt),
    qualifyingPoints: await qualifyingPoints(deps, memberId),
    history: history.map((h) => ({ from: h.fromTier, to: h.toTier, reason: h.reason, qualifyingPoints: h.qualifyingPoints, at: isoTime(h.at) })),
  };
}
