/**
 * RFM scoring: recency, frequency and monetary quintile scores (1..5) relative to the members who
 * have bought at least once, and the named segment those scores fall in. Pure and order-free: the
 * same members in any order get the same scores.
 *
 * Members without a purchase (frequency < 1) get no RFM score at all: they are "no purchase yet",
 * not the worst RFM cell, and counting them would drag every buyer's scores up.
 */
import { topCount } from "./pareto.ts";

export interface RfmMember {
  memberId: string;
  /** Days since the member's last purchase (recency); smaller is better. */
  daysSinceLastPurchase: number;
  /** Purchases (or purchase days) in the window; below 1 means no purchase yet. */
  frequency: number;
  /** Spend in the window, in minor units. */
  monetaryMinor: number;
}

export type RfmScore = 1 | 2 | 3 | 4 | 5;

export const RFM_SEGMENTS = [
  "champions",
  "loyal",
  "potential_loyalist",
  "new",
  "promising",
  "need_attention",
  "about_to_sleep",
  "at_risk",
  "cant_lose_them",
  "hibernating",
  "lost",
] as const;

export type RfmSegment = (typeof RFM_SEGMENTS)[number];

export const RFM_SEGMENT_NAMES: Readonly<Record<RfmSegment, string>> = {
  champions: "Champions",
  loyal: "Loyal",
  potential_loyalist: "Potential loyalist",
  new: "New",
  promising: "Promising",
  need_attention: "Need attention",
  about_to_sleep: "About to sleep",
  at_risk: "At risk",
  cant_lose_them: "Can't lose them",
  hibernating: "Hibernating",
  lost: "Lost",
};

export interface RfmScored {
  memberId: string;
  recencyScore: RfmScore;
  frequencyScore: RfmScore;
  monetaryScore: RfmScore;
  segment: RfmSegment;
}

export interface RfmResult {
  /** One entry per member with at least one purchase, in input order. */
  scored: RfmScored[];
  /** Members with no purchase yet, in input order: they have no RFM score. */
  noPurchase: string[];
}

/** Index of `value` in the ascending, duplicate-free `distinct` (binary search; the value is there). */
function indexOf(distinct: Float64Array, value: number): number {
  let lo = 0;
  let hi = distinct.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (distinct[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Quintile scores 1..5 for `values`, rank based with a tie rule that never splits equal values:
 *
 *     score = 1 + ⌊5 · worse / n⌋
 *
 * where `worse` is how many of the n values are strictly worse (smaller when `higherIsBetter`,
 * larger otherwise). So a score of s means "better than at least 20·(s−1)% of the members", equal
 * values always share a score (the score of their group's first, worst-ranked position), and the
 * result depends only on the multiset of values, not their order. The worst value always scores 1.
 *
 * Heavy ties leave gaps rather than invent differences: if 60% of members bought once, all of them
 * score F = 1 (they beat nobody) and the next frequency up scores 4 (it beats 60%); scores 2 and 3
 * are simply unused. If everybody ties, everybody scores 1. Cost: one native sort plus a binary
 * search per value over the distinct values, O(n log n).
 */
export function quintileScores(values: ArrayLike<number>, higherIsBetter: boolean): Uint8Array {
  const n = values.length;
  const scores = new Uint8Array(n);
  if (n === 0) return scores;
  const sorted = Float64Array.from(values);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(sorted[i]!)) throw new RangeError(`quintileScores: value #${i} is not a finite number`);
  }
  sorted.sort(); // typed-array sort is numeric and ascending

  // Collapse to distinct values with their score, so ties are scored once and the per-member
  // search runs over the (often tiny: 365 days, a few frequencies) distinct list.
  const distinct = new Float64Array(n);
  const distinctScore = new Uint8Array(n);
  let d = 0;
  for (let i = 0; i < n; ) {
    const value = sorted[i]!;
    let end = i + 1;
    while (end < n && sorted[end] === value) end++;
    // Ascending order: i values are strictly smaller, n − end strictly larger.
    const worse = higherIsBetter ? i : n - end;
    distinct[d] = value;
    distinctScore[d] = 1 + Math.floor((5 * worse) / n); // worse ≤ n − 1, so at most 5
    d++;
    i = end;
  }
  const distinctValues = distinct.subarray(0, d);
  for (let i = 0; i < n; i++) scores[i] = distinctScore[indexOf(distinctValues, values[i]!)]!;
  return scores;
}

/**
 * The segment grid: rows are FM = ⌊(F + M) / 2⌋ from 5 (top) to 1, columns are R from 1 to 5.
 * See {@link rfmSegment} for the reasoning.
 */
const SEGMENT_GRID: readonly (readonly RfmSegment[])[] = [
  /* FM 5 */ ["cant_lose_them", "at_risk", "loyal", "champions", "champions"],
  /* FM 4 */ ["cant_lose_them", "at_risk", "loyal", "loyal", "champions"],
  /* FM 3 */ ["at_risk", "at_risk", "need_attention", "potential_loyalist", "potential_loyalist"],
  /* FM 2 */ ["lost", "hibernating", "about_to_sleep", "potential_loyalist", "potential_loyalist"],
  /* FM 1 */ ["lost", "hibernating", "about_to_sleep", "promising", "new"],
];

const isScore = (s: number): s is RfmScore => Number.isInteger(s) && s >= 1 && s <= 5;

/**
 * The named segment for an (R, F, M) score triple, from one R × FM grid.
 *
 * Source: Putler, "RFM Analysis for Customer Segmentation" (putler.com/rfm-analysis), whose
 * 11-segment table gives each segment a range of R and of the F-and-M score (the average of F and
 * M). Putler's ranges overlap — read top-down as first-match rules, New, Promising, Can't lose
 * them and Lost are never reached — so this grid assigns every cell to exactly one segment while
 * keeping each segment inside its published ranges. FM = ⌊(F + M) / 2⌋: rounding down means the
 * higher band must be earned by both F and M, e.g. F = 1, M = 2 (a single, mid-sized purchase) is
 * FM 1 and a very recent such member is New, not a Potential loyalist.
 *
 *     FM \ R |  1               2              3               4                   5
 *     -------+-------------------------------------------------------------------------------------
 *       5    |  Can't lose them At risk        Loyal           Champions           Champions
 *       4    |  Can't lose them At risk        Loyal           Loyal               Champions
 *       3    |  At risk         At risk        Need attention  Potential loyalist  Potential loyalist
 *       2    |  Lost            Hibernating    About to sleep  Potential loyalist  Potential loyalist
 *       1    |  Lost            Hibernating    About to sleep  Promising           New
 *
 * Every one of the 125 (R, F, M) triples lands in exactly one cell, and every segment has a cell.
 */
export function rfmSegment(recencyScore: number, frequencyScore: number, monetaryScore: number): RfmSegment {
  if (!isScore(recencyScore) || !isScore(frequencyScore) || !isScore(monetaryScore)) {
    throw new RangeError(`rfmSegment: scores must be integers 1..5, got ${recencyScore}/${frequencyScore}/${monetaryScore}`);
  }
  const fm = Math.floor((frequencyScore + monetaryScore) / 2);
  return SEGMENT_GRID[5 - fm]![recencyScore - 1]!;
}

const isCount = (value: number) => Number.isFinite(value) && value >= 0;

/** A member's figures must be finite and non-negative; plain checks, as this runs a million times. */
function checkMember(member: RfmMember, index: number): void {
  if (isCount(member.daysSinceLastPurchase) && isCount(member.frequency) && isCount(member.monetaryMinor)) return;
  const { daysSinceLastPurchase, frequency, monetaryMinor } = member;
  throw new RangeError(`RFM member #${index}: figures must be finite numbers ≥ 0, got days ${daysSinceLastPurchase}, frequency ${frequency}, monetary ${monetaryMinor}`);
}

/**
 * Scores every member with at least one purchase (R reversed: fewest days since the last purchase
 * = 5) and names their segment; members without a purchase are listed apart, unscored.
 */
export function scoreRfm(members: readonly RfmMember[]): RfmResult {
  const buyers: RfmMember[] = [];
  const noPurchase: string[] = [];
  members.forEach((member, index) => {
    checkMember(member, index);
    if (member.frequency >= 1) buyers.push(member);
    else noPurchase.push(member.memberId);
  });

  const n = buyers.length;
  const recencyDays = new Float64Array(n);
  const frequency = new Float64Array(n);
  const monetaryMinor = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const member = buyers[i]!;
    recencyDays[i] = member.daysSinceLastPurchase;
    frequency[i] = member.frequency;
    monetaryMinor[i] = member.monetaryMinor;
  }
  const r = quintileScores(recencyDays, false);
  const f = quintileScores(frequency, true);
  const m = quintileScores(monetaryMinor, true);

  const scored: RfmScored[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const recencyScore = r[i]! as RfmScore;
    const frequencyScore = f[i]! as RfmScore;
    const monetaryScore = m[i]! as RfmScore;
    const fm = (frequencyScore + monetaryScore) >> 1;
    scored[i] = {
      memberId: buyers[i]!.memberId,
      recencyScore,
      frequencyScore,
      monetaryScore,
      segment: SEGMENT_GRID[5 - fm]![recencyScore - 1]!, // same lookup as rfmSegment, minus the checks
    };
  }
  return { scored, noPurchase };
}

export interface TopMonetary {
  /** The spend a member needs to be in the top share, in minor units; null when nobody is. */
  thresholdMinor: number | null;
  /** The members at or above the threshold, biggest spend first, ties by memberId. */
  memberIds: string[];
}

/**
 * The top `share` (0..1] of buyers by spend, e.g. 0.05 for a "royal" tier of the top 5%.
 *
 * Counting: the base is the members with at least one purchase (as in RFM) and positive spend is
 * required; k = ⌊share · n⌋ buyers, counted as {@link topCount} does (the top 5% of 1,000 is 50), and the
 * threshold is the k-th biggest spend. Ties at the boundary are all let in — members who spent the
 * same always get the same treatment — so the list can be longer than k. Zero spend never
 * qualifies, so the list is shorter than k when fewer than k buyers spent anything; when k is 0
 * (too few buyers for the share) nobody qualifies.
 */
export function topByMonetary(members: readonly RfmMember[], share: number): TopMonetary {
  if (!(share > 0 && share <= 1)) throw new RangeError(`topByMonetary: share must be in (0, 1], got ${share}`);
  const buyers = members.filter((member, index) => {
    checkMember(member, index);
    return member.frequency >= 1;
  });
  const k = topCount(share, buyers.length);
  if (k === 0) return { thresholdMinor: null, memberIds: [] };
  const spendAscending = Float64Array.from(buyers, (b) => b.monetaryMinor).sort();
  const kthSpendMinor = spendAscending[buyers.length - k]!;
  const top = buyers.filter((b) => b.monetaryMinor > 0 && b.monetaryMinor >= kthSpendMinor);
  if (top.length === 0) return { thresholdMinor: null, memberIds: [] };
  top.sort((a, b) => b.monetaryMinor - a.monetaryMinor || (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  // The last one in is the smallest qualifying spend: the k-th spend, or the smallest positive one
  // when fewer than k buyers spent anything.
  return { thresholdMinor: top[top.length - 1]!.monetaryMinor, memberIds: top.map((b) => b.memberId) };
}
