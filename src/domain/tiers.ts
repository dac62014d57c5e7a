/**
 * Tiers from qualifying points over a rolling 12 months. An upgrade happens at once and starts a
 * new 12-month term; a downgrade happens only when the term ends (requalification), by as many
 * tiers as the points fell short.
 */
import type { Program } from "./program.ts";
import { DAY_MS } from "../lib/time.ts";

export const TIER_TERM_MS = 365 * DAY_MS;

export interface TierState {
  tier: string;
  /** When the current term ends and the tier is requalified; null for the base tier. */
  requalifyAt: number | null;
}

export interface TierDecision extends TierState {
  changed: boolean;
  reason: "upgrade" | "requalified" | "downgrade" | "unchanged";
}

export function tierFor(program: Program, qualifyingPoints: number): string {
  let code = program.tiers[0]!.code;
  for (const tier of program.tiers) if (qualifyingPoints >= tier.qualifyingPoints) code = tier.code;
  return code;
}

function rank(program: Program, code: string): number {
  const i = program.tiers.findIndex((t) => t.code === code);
  return i < 0 ? 0 : i;
}

/**
 * `floor` is a tier the member holds whatever their points — a royal tier for the top spenders:
 * it upgrades at once and keeps the member there at requalification.
 */
export function evaluateTier(program: Program, current: TierState, qualifyingPoints: number, nowMs: number, floor?: string | null): TierDecision {
  const byPoints = tierFor(program, qualifyingPoints);
  const earned = floor && rank(program, floor) > rank(program, byPoints) ? floor : byPoints;
  const base = program.tiers[0]!.code;
  if (rank(program, earned) > rank(program, current.tier)) {
    return { tier: earned, requalifyAt: nowMs + TIER_TERM_MS, changed: true, reason: "upgrade" };
  }
  if (current.requalifyAt !== null && nowMs >= current.requalifyAt) {
    const next = earned;
    const requalifyAt = next === base ? null : nowMs + TIER_TERM_MS;
    if (next === current.tier) return { tier: next, requalifyAt, changed: false, reason: "requalified" };
    return { tier: next, requalifyAt, changed: true, reason: "downgrade" };
  }
  return { ...current, changed: false, reason: "unchanged" };
}
