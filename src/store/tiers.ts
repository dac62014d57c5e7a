/** Tier changes as statements: the member's tier and its history, in the unit that caused them. */
import { and, eq, gte, isNull, lte, sql } from "drizzle-orm";
import { prepared, type Statement } from "../../db/database.ts";
import { members, memberScores, purchases, tierHistory } from "../../db/schema.ts";
import type { Deps } from "../deps.ts";
import type { Program } from "../domain/program.ts";
import { evaluateTier, TIER_TERM_MS } from "../domain/tiers.ts";
import { newId } from "../lib/ids.ts";
import { recordedInteractionStatements } from "./interactions.ts";

export interface MemberTier {
  memberId: string;
  tier: string;
  requalifyAt: number | null;
}

/** Statements that apply the tier decision for `qualifyingPoints`, or none when nothing changes. */
export function tierStatements(deps: Deps, program: Program, current: MemberTier, qualifyingPoints: number, floor?: string | null): Statement[] {
  const now = deps.clock();
  const decision = evaluateTier(program, { tier: current.tier, requalifyAt: current.requalifyAt }, qualifyingPoints, now, floor);
  if (decision.reason === "unchanged") return [];
  const { db } = deps.database;
  // Conditional on the tier read, so two purchases racing to upgrade record it once.
  const guard = and(eq(members.id, current.memberId), eq(members.tier, current.tier), current.requalifyAt === null ? isNull(members.tierRequalifyAt) : eq(members.tierRequalifyAt, current.requalifyAt));
  const statements: Statement[] = [db.update(members).set({ tier: decision.tier, tierRequalifyAt: decision.requalifyAt, updatedAt: now }).where(guard)];
  if (decision.changed) {
    const id = newId("tierChange", now);
    statements.push(
      db.insert(tierHistory).values({ id, memberId: current.memberId, fromTier: current.tier, toTier: decision.tier, reason: decision.reason, qualifyingPoints, at: now }),
      ...recordedInteractionStatements(deps.clock(), {
        memberId: current.memberId,
        kind: "tier_change",
        channel: "system",
        reference: id,
        attributes: { fromTier: current.tier, toTier: decision.tier, reason: decision.reason, qualifyingPoints },
        occurredAt: now,
      }),
    );
  }
  return statements;
}

/**
 * Points earned (net of claw-backs) by a member's purchases since three instants at once — the
 * day and month for the caps, 12 months back for the tier — in one indexed pass.
 */
export async function earnedSince(deps: Deps, memberId: string, since: { day: number; month: number; year: number }) {
  const net = sql`${purchases.earnedPoints} - ${purchases.clawedPoints}`;
  const query = prepared(deps.database.db, "purchases.earnedSince", (db) =>
    db
      .select({
        day: sql<number>`COALESCE(SUM(CASE WHEN ${purchases.occurredAt} >= ${sql.placeholder("day")} THEN ${net} END), 0)`,
        month: sql<number>`COALESCE(SUM(CASE WHEN ${purchases.occurredAt} >= ${sql.placeholder("month")} THEN ${net} END), 0)`,
        year: sql<number>`COALESCE(SUM(${net}), 0)`,
      })
      .from(purchases)
      .where(and(eq(purchases.memberId, sql.placeholder("memberId")), gte(purchases.occurredAt, sql.placeholder("year"))))
      .prepare(),
  );
  const row = await query.get({ memberId, ...since });
  return { day: Number(row?.day ?? 0), month: Number(row?.month ?? 0), year: Number(row?.year ?? 0) };
}

/** Points earned over the rolling 12 months that tiers are judged on. */
export async function qualifyingPoints(deps: Deps, memberId: string): Promise<number> {
  const now = deps.clock();
  return (await earnedSince(deps, memberId, { day: now, month: now, year: now - TIER_TERM_MS })).year;
}

/** Members whose tier term has ended, for the requalification job, with any tier their spend holds. */
export async function membersDueForRequalification(deps: Deps, limit: number) {
  return deps.database.db
    .select({ memberId: members.id, tier: members.tier, requalifyAt: members.tierRequalifyAt, spendTier: memberScores.spendTier })
    .from(members)
    .leftJoin(memberScores, eq(memberScores.memberId, members.id))
    .where(lte(members.tierRequalifyAt, deps.clock()))
    .limit(limit);
}
