/**
 * The daily scoring of the whole base, pure: from what the members, their profiles and their last
 * scores say (read by services/analytics/recompute.ts) and the day's model fits, each member's
 * RFM cell, P(alive), expected purchases and spend, CLV, lifecycle stage and royal tier — the rows
 * of member_scores. Nothing here reads or writes; the recompute does both around it.
 */
import {
  expectedAverageSpend,
  fitBgNbd,
  fitGammaGamma,
  horizonPurchasesIfAlive,
  lifecycleStage,
  probabilityAlive,
  WEEKS_PER_MONTH,
  type BgNbdCustomer,
  type BgNbdFit,
  type GammaGammaFit,
  type LifecycleStage,
} from "./clv/index.ts";
import { localDayNumber } from "./expiry.ts";
import type { Program } from "./program.ts";
import { scoreRfm, topByMonetary, type RfmScored } from "./rfm.ts";
import { DAY_MS } from "../lib/time.ts";

const WEEK_DAYS = 7;
/** CLV over the next 12 months, discounted 1% a month. */
export const CLV_MONTHS = 12;
export const CLV_MONTHLY_DISCOUNT = 0.01;

/**
 * The models are fitted on at most this many members, an evenly spaced (member ids are
 * time-ordered, so spread over enrolment) and reproducible sample: the parameters' sampling error
 * at 25,000 is far below what moves a score, and the fit's time stays bounded as the base grows.
 * Every member is then scored.
 */
const FIT_SAMPLE = 25_000;
/** Mean log-likelihood per member to 1e-9: tight enough to settle every score, not 20,000 steps. */
export const FIT_TOLERANCES = { valueTolerance: 1e-9, pointTolerance: 1e-6, maxIterations: 1_500 };

function sample<T>(all: T[]): T[] {
  if (all.length <= FIT_SAMPLE) return all;
  const step = all.length / FIT_SAMPLE;
  return Array.from({ length: FIT_SAMPLE }, (_, i) => all[Math.floor(i * step)]!);
}

/**
 * The base, column by column (a million members as objects cost a gigabyte): what the members,
 * their profiles and their last scores say, by the member's position in `ids`.
 */
export interface Base {
  ids: string[];
  enrolledAt: number[];
  tier: string[];
  /** NaN for the base tier (no term). */
  tierRequalifyAt: Float64Array;
  /** NaN when the member never bought. */
  firstPurchaseAt: Float64Array;
  firstPurchaseMinor: Float64Array;
  lastPurchaseAt: Float64Array;
  purchaseDays: Int32Array;
  monetaryMinor: Float64Array;
  previousLifecycle: Array<string | undefined>;
  previousScoredAt: Float64Array;
}

export interface Fits {
  bgNbd: BgNbdFit | null;
  gammaGamma: GammaGammaFit | null;
}

/** The members who bought, and each member's (x, t_x, T) history (null for those who never did). */
export interface Histories {
  buyerIndexes: number[];
  histories: Array<BgNbdCustomer | null>;
}

/**
 * (x, t_x, T) in weeks, counted in the program's local days — the days the profile counts
 * purchase days in — so identical histories fit as one group and two purchase days are always at
 * least a day apart.
 */
function historyOf(base: Base, i: number, today: number, dayOf: (ms: number) => number): BgNbdCustomer | null {
  const firstAt = base.firstPurchaseAt[i]!;
  if (Number.isNaN(firstAt)) return null;
  const x = Math.max(0, base.purchaseDays[i]! - 1);
  const first = dayOf(firstAt);
  // A back-dated purchase may leave fewer calendar days than counted purchase days: at least one.
  const tx = x === 0 ? 0 : Math.max(1, dayOf(base.lastPurchaseAt[i]!) - first);
  return { x, tx: tx / WEEK_DAYS, T: Math.max(tx, today - first) / WEEK_DAYS };
}

export function historiesOf(base: Base, now: number, utcOffsetMinutes: number): Histories {
  const dayOf = (ms: number) => localDayNumber(ms, utcOffsetMinutes);
  const today = dayOf(now);
  const n = base.ids.length;
  const buyerIndexes: number[] = [];
  const histories = new Array<BgNbdCustomer | null>(n);
  for (let i = 0; i < n; i++) {
    if (base.purchaseDays[i]! >= 1) buyerIndexes.push(i);
    histories[i] = historyOf(base, i, today, dayOf);
  }
  return { buyerIndexes, histories };
}

/** Mean value of the repeat purchases (the first is left out, as the spend model expects). */
function meanRepeatSpend(base: Base, i: number, x: number): number {
  return x > 0 ? (base.monetaryMinor[i]! - base.firstPurchaseMinor[i]!) / x : 0;
}

const finite = (...values: number[]) => values.every((v) => Number.isFinite(v) && v > 0);

/** The day's BG/NBD and Gamma-Gamma fits on a sample of the buyers, started from the last run's parameters. */
export function fitModels(base: Base, { buyerIndexes, histories }: Histories, last: Partial<Fits> | null): Fits {
  const buyers = buyerIndexes.map((i) => histories[i]!);
  const lastBg = last?.bgNbd;
  const lastGg = last?.gammaGamma;
  const bgNbd =
    buyers.length >= 2
      ? fitBgNbd(sample(buyers), { minimize: FIT_TOLERANCES, ...(lastBg && finite(lastBg.r, lastBg.alpha, lastBg.a, lastBg.b) && { start: lastBg }) })
      : null;
  const spenders = buyerIndexes.flatMap((i) => {
    const x = histories[i]!.x;
    const mx = meanRepeatSpend(base, i, x);
    return x > 0 && mx > 0 ? [{ x, mx }] : [];
  });
  const gammaGamma =
    spenders.length >= 2
      ? fitGammaGamma(sample(spenders), { minimize: FIT_TOLERANCES, ...(lastGg && finite(lastGg.p, lastGg.q, lastGg.gamma) && { start: lastGg }) })
      : null;
  return { bgNbd, gammaGamma };
}

/** member_scores' columns, in the order a score row holds them. */
export const SCORE_COLUMNS = ["member_id", "recency_days", "r", "f", "m", "rfm_segment", "p_alive", "expected_purchases", "expected_spend_minor", "clv_minor", "lifecycle", "spend_tier", "scored_at"];

export interface ScoredBase {
  /** Member positions in member-id order, the order of member_scores' key (writes in scan order touched pages all over the table). */
  order: number[];
  /** The score row of the member at position i (SCORE_COLUMNS). */
  row(i: number): unknown[];
  lifecycle: Partial<Record<LifecycleStage, number>>;
  /** Royal tiers: the code a member's spend earns it (top N% of buyers), the highest when several. */
  spendTierOf: Map<string, string>;
}

/** Scores every member of the base at `now` with the day's fits (see the header). */
export function scoreBase(base: Base, { buyerIndexes, histories }: Histories, fits: Fits, now: number, program: Pick<Program, "tiers">): ScoredBase {
  const n = base.ids.length;
  const { bgNbd, gammaGamma } = fits;

  // RFM over buyers: frequency in purchase days, monetary net of refunds.
  const rfmInput = buyerIndexes.map((i) => ({
    memberId: base.ids[i]!,
    daysSinceLastPurchase: Math.max(0, (now - base.lastPurchaseAt[i]!) / DAY_MS),
    frequency: base.purchaseDays[i]!,
    monetaryMinor: Math.max(0, base.monetaryMinor[i]!),
  }));
  const rfm = scoreRfm(rfmInput);
  const spendTierOf = new Map<string, string>();
  for (const tier of program.tiers) {
    if (tier.topSpendPercent === undefined) continue;
    for (const memberId of topByMonetary(rfmInput, tier.topSpendPercent / 100).memberIds) spendTierOf.set(memberId, tier.code);
  }
  // scoreRfm keeps its input's order: the k-th score is the k-th buyer's.
  const rfmOf = new Array<RfmScored | undefined>(n);
  rfm.scored.forEach((score, k) => (rfmOf[buyerIndexes[k]!] = score));

  // Purchases ahead if still alive depend on (x, T) only, not t_x: the ₂F₁s run once per distinct
  // pair (65,000 against 697,000 distinct histories in the benchmark), and each member's P(alive) scales them.
  const horizon = { periods: CLV_MONTHS, periodLength: WEEKS_PER_MONTH, discountRatePerPeriod: CLV_MONTHLY_DISCOUNT };
  const ifAliveByAge = new Map<number, { total: number; discounted: number } | null>();
  const futureOf = (h: BgNbdCustomer) => {
    if (!bgNbd) return null;
    // Whole days (< 100,000) and purchase days make an exact numeric key.
    const key = h.x * 100_000 + Math.round(h.T * WEEK_DAYS);
    let ifAlive = ifAliveByAge.get(key);
    if (ifAlive === undefined) {
      try {
        ifAlive = horizonPurchasesIfAlive(bgNbd, h.x, h.T, horizon);
      } catch (error) {
        // A degenerate fit (a tiny or odd base) can push ₂F₁ out of reach: those members go
        // unscored this run rather than failing everyone's.
        if (!(error instanceof RangeError)) throw error;
        ifAlive = null;
      }
      ifAliveByAge.set(key, ifAlive);
    }
    if (!ifAlive) return null;
    const pAlive = probabilityAlive(bgNbd, h);
    return { discountedPurchases: ifAlive.discounted * pAlive, expected: ifAlive.total * pAlive, pAlive };
  };

  // Per member, NaN where unscored.
  const pAlive = new Float64Array(n).fill(Number.NaN);
  const expected = new Float64Array(n).fill(Number.NaN);
  const clv = new Float64Array(n).fill(Number.NaN);
  const spend = new Float64Array(n).fill(Number.NaN);
  for (const i of buyerIndexes) {
    const h = histories[i]!;
    const future = futureOf(h);
    if (!future) continue;
    pAlive[i] = future.pAlive;
    expected[i] = future.expected;
    if (!gammaGamma) continue;
    const mx = meanRepeatSpend(base, i, h.x);
    spend[i] = expectedAverageSpend(gammaGamma, h.x, mx > 0 ? mx : 0);
    clv[i] = spend[i]! * future.discountedPurchases;
  }
  // CLV percentiles for the VIP stage: rank among members with a value.
  const values = Float64Array.from(clv.filter((v) => !Number.isNaN(v))).sort();
  const percentileOf = (value: number) => {
    let lo = 0;
    let hi = values.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (values[mid]! < value) lo = mid + 1;
      else hi = mid;
    }
    return values.length ? (100 * lo) / values.length : 0;
  };

  const lifecycle: Partial<Record<LifecycleStage, number>> = {};
  const stageOf = new Array<LifecycleStage>(n);
  for (let i = 0; i < n; i++) {
    const bought = !Number.isNaN(base.lastPurchaseAt[i]!);
    const scored = !Number.isNaN(pAlive[i]!);
    // Reactivated: the last scoring found the member dormant, and they have bought since.
    const cameBack = base.previousLifecycle[i] === "dormant" && bought && base.lastPurchaseAt[i]! > base.previousScoredAt[i]!;
    const stage = lifecycleStage({
      daysSinceEnrolment: Math.max(0, (now - base.enrolledAt[i]!) / DAY_MS),
      daysSinceLastPurchase: bought ? Math.max(0, (now - base.lastPurchaseAt[i]!) / DAY_MS) : null,
      probabilityAlive: scored ? pAlive[i]! : bought ? 0.5 : 1,
      ...(!Number.isNaN(clv[i]!) && { clvPercentile: percentileOf(clv[i]!) }),
      purchasedAfterDormantGap: cameBack || base.previousLifecycle[i] === "reactivated",
    });
    stageOf[i] = stage;
    lifecycle[stage] = (lifecycle[stage] ?? 0) + 1;
  }

  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (base.ids[a]! < base.ids[b]! ? -1 : base.ids[a]! > base.ids[b]! ? 1 : 0));
  const row = (i: number): unknown[] => {
    const score = rfmOf[i];
    const scored = !Number.isNaN(pAlive[i]!);
    const valued = !Number.isNaN(clv[i]!);
    const bought = !Number.isNaN(base.lastPurchaseAt[i]!);
    return [
      base.ids[i],
      bought ? Math.floor(Math.max(0, (now - base.lastPurchaseAt[i]!) / DAY_MS)) : null,
      score?.recencyScore ?? null,
      score?.frequencyScore ?? null,
      score?.monetaryScore ?? null,
      score?.segment ?? null,
      scored ? pAlive[i] : null,
      scored ? expected[i] : null,
      valued ? Math.round(spend[i]!) : null,
      valued ? Math.round(clv[i]!) : null,
      stageOf[i],
      spendTierOf.get(base.ids[i]!) ?? null,
      now,
    ];
  };
  return { order, row, lifecycle, spendTierOf };
}
