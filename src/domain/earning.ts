/**
 * How many points a purchase earns, and why. Integer maths throughout: rates in basis points,
 * multipliers in percent, every step rounded down, so the breakdown adds up to the total exactly.
 */
import type { Program } from "./program.ts";

export interface PurchaseLine {
  sku?: string | undefined;
  category?: string | undefined;
  /** The line's total, in minor units. */
  amountMinor: number;
  quantity?: number | undefined;
}

export interface EarningInput {
  program: Program;
  partnerId: string;
  tierCode: string;
  /** The amount the points are earned on: after discounts, before points. */
  amountMinor: number;
  lines?: PurchaseLine[] | undefined;
  /** The part of the amount paid with points: it earns nothing. */
  paidWithPointsMinor: number;
  /** Points already earned in the program's current day and month, for the caps. */
  earnedToday: number;
  earnedThisMonth: number;
}

export type BreakdownLine =
  | { rule: "paid_with_points"; amountMinor: number; points: 0 }
  | { rule: "excluded_category"; category: string; amountMinor: number; points: 0 }
  | { rule: "base_rate" | "partner_rate"; rateBps: number; amountMinor: number; points: number }
  | { rule: "category_multiplier"; category: string; multiplierPct: number; amountMinor: number; points: number }
  | { rule: "tier_multiplier"; tier: string; multiplierPct: number; points: number }
  | { rule: "cap_per_purchase" | "cap_per_day" | "cap_per_month"; cap: number; points: number };

export interface Earning {
  points: number;
  breakdown: BreakdownLine[];
}

/** A rule for a partner or category, own keys only: a category called "constructor" is just a name. */
const ruleFor = <T>(rules: Record<string, T>, key: string): T | undefined => (Object.hasOwn(rules, key) ? rules[key] : undefined);

const floorDiv = (numerator: bigint, denominator: bigint) => Number(numerator / denominator); // non-negative inputs only

/**
 * Earning = ⌊Σ_category eligible × rate × categoryMultiplier⌋ × tierMultiplier, capped.
 * The part paid with points is taken off every line pro rata before anything earns.
 */
export function computeEarning(input: EarningInput): Earning {
  const { program, amountMinor, paidWithPointsMinor } = input;
  const breakdown: BreakdownLine[] = [];
  const lines: PurchaseLine[] = input.lines?.length ? input.lines : [{ amountMinor }];
  const total = lines.reduce((n, l) => n + l.amountMinor, 0);
  const payable = Math.max(0, amountMinor - paidWithPointsMinor);
  if (paidWithPointsMinor > 0) breakdown.push({ rule: "paid_with_points", amountMinor: Math.min(paidWithPointsMinor, amountMinor), points: 0 });

  // Eligible amount per category, after the points share and the exclusions.
  const eligibleByCategory = new Map<string, number>();
  const excluded = new Set(program.earning.excludedCategories);
  for (const line of lines) {
    const eligible = total === 0 ? 0 : floorDiv(BigInt(line.amountMinor) * BigInt(payable), BigInt(total));
    const category = line.category ?? "";
    if (excluded.has(category)) {
      breakdown.push({ rule: "excluded_category", category, amountMinor: eligible, points: 0 });
      continue;
    }
    eligibleByCategory.set(category, (eligibleByCategory.get(category) ?? 0) + eligible);
  }

  const partnerRate = ruleFor(program.earning.partnerRatesBps, input.partnerId);
  const rateBps = partnerRate ?? program.earning.baseRateBps;
  const eligibleTotal = [...eligibleByCategory.values()].reduce((a, b) => a + b, 0);
  let basePoints = 0;
  let beforeTier = 0;
  const categoryLines: BreakdownLine[] = [];
  for (const [category, eligible] of eligibleByCategory) {
    const multiplierPct = ruleFor(program.earning.categoryMultipliersPct, category) ?? 100;
    const plain = floorDiv(BigInt(eligible) * BigInt(rateBps), 10_000n);
    const multiplied = floorDiv(BigInt(eligible) * BigInt(rateBps) * BigInt(multiplierPct), 1_000_000n);
    basePoints += plain;
    beforeTier += multiplied;
    if (multiplierPct !== 100) categoryLines.push({ rule: "category_multiplier", category, multiplierPct, amountMinor: eligible, points: multiplied - plain });
  }
  breakdown.push({ rule: partnerRate === undefined ? "base_rate" : "partner_rate", rateBps, amountMinor: eligibleTotal, points: basePoints }, ...categoryLines);

  const tier = program.tiers.find((t) => t.code === input.tierCode) ?? program.tiers[0]!;
  let points = floorDiv(BigInt(beforeTier) * BigInt(tier.multiplierPct), 100n);
  if (tier.multiplierPct !== 100) breakdown.push({ rule: "tier_multiplier", tier: tier.code, multiplierPct: tier.multiplierPct, points: points - beforeTier });

  const { perPurchase, perDay, perMonth } = program.earning.caps;
  const caps: Array<[BreakdownLine["rule"] & `cap_${string}`, number | undefined, number]> = [
    ["cap_per_purchase", perPurchase, perPurchase ?? 0],
    ["cap_per_day", perDay, Math.max(0, (perDay ?? 0) - input.earnedToday)],
    ["cap_per_month", perMonth, Math.max(0, (perMonth ?? 0) - input.earnedThisMonth)],
  ];
  for (const [rule, cap, room] of caps) {
    if (cap === undefined || points <= room) continue;
    breakdown.push({ rule, cap, points: room - points });
    points = room;
  }
  return { points, breakdown };
}
