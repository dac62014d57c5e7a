/**
 * The program's rules, as one versioned document. Purchases record the version they were earned
 * under, so changing the rules never changes what old purchases earned or would refund.
 * Rates are in basis points (1/10,000) and multipliers in percent, so all earning maths is integer.
 */
import { z } from "../lib/zod.ts";

// Bounded so that the largest purchase (10^12 minor units) earns at most 10^14 points: at 100%
// back and 10× for both category and tier, still far inside JavaScript's exact integers.
const Bps = z.number().int().min(0).max(10_000);
const Percent = z.number().int().min(0).max(1_000);
const Points = z.number().int().min(0);

export const ExpiryPolicySchema = z.discriminatedUnion("policy", [
  z.object({ policy: z.literal("never") }).strict(),
  /** Each earning expires N months after it was earned. */
  z.object({ policy: z.literal("rolling_months"), months: z.number().int().min(1).max(120) }).strict(),
  /** Expires at the end of the month, N years after earning (e.g. earned 2025-03-14, N=1 → 2026-03-31). */
  z.object({ policy: z.literal("end_of_month"), years: z.number().int().min(1).max(10) }).strict(),
  /** Expires at the end of the calendar year N years after earning (N=1: earned in 2025 → 2026-12-31). */
  z.object({ policy: z.literal("end_of_year"), years: z.number().int().min(1).max(10) }).strict(),
]);

export const TierSchema = z
  .object({
    code: z.string().regex(/^[a-z][a-z0-9_]{0,19}$/),
    name: z.string().min(1).max(40),
    /** Points earned over the rolling 12 months that reach (and keep) this tier. */
    qualifyingPoints: Points,
    multiplierPct: Percent,
    /**
     * A "royal" tier: the top N% of buyers by spend (net of refunds) also reach and keep it,
     * whatever their points. Judged by the daily recompute.
     */
    topSpendPercent: z.number().gt(0).max(50).optional(),
  })
  .strict();

export const ProgramSchema = z
  .object({
    currency: z.string().regex(/^[A-Z]{3}$/),
    /** The program's local time, for daily and monthly caps and month-end expiry (Korea: +540). */
    utcOffsetMinutes: z.number().int().min(-720).max(840).default(540),
    /** What one point pays for, in minor units of the currency. */
    pointValueMinor: z.number().int().min(1),
    earning: z
      .object({
        baseRateBps: Bps,
        /** Replaces the base rate at a partner. */
        partnerRatesBps: z.record(z.string(), Bps).default({}),
        /** Multiplies the rate for an item category: { books: 200 } earns double on books. */
        categoryMultipliersPct: z.record(z.string(), Percent).default({}),
        /** Categories that earn nothing (gift cards, tobacco …). */
        excludedCategories: z.array(z.string()).default([]),
        caps: z
          .object({ perPurchase: Points.optional(), perDay: Points.optional(), perMonth: Points.optional() })
          .strict()
          .default({}),
        /** Days before earned points become available (0: at once). */
        pendingDays: z.number().int().min(0).max(365).default(0),
      })
      .strict(),
    expiry: ExpiryPolicySchema,
    /** Days before expiry that the member is told. 0 sends no notice. */
    expiryNoticeDays: z.number().int().min(0).max(365).default(30),
    redemption: z
      .object({
        minPoints: Points.optional(),
        maxPoints: Points.optional(),
        /**
         * Lets a till spend points on a card number typed by hand with no proof that the member is
         * there (the QR token or the member's PIN). Off by default: anyone who knows a member's
         * 16 digits could then spend the member's points.
         */
        allowTypedNumber: z.boolean().default(false),
      })
      .strict()
      .default({ allowTypedNumber: false }),
    /** Tiers from lowest to highest; the first is where every member starts. */
    tiers: z.array(TierSchema).min(1).max(10),
  })
  .strict()
  .superRefine((program, ctx) => {
    const codes = new Set(program.tiers.map((t) => t.code));
    if (codes.size !== program.tiers.length) ctx.addIssue({ code: "custom", path: ["tiers"], message: "Tier codes must be unique" });
    // zod still runs this after a continuable issue such as tiers.min(1), so tiers may be empty here.
    if (program.tiers[0] !== undefined && program.tiers[0].qualifyingPoints !== 0) ctx.addIssue({ code: "custom", path: ["tiers", 0, "qualifyingPoints"], message: "The first tier needs no points" });
    for (let i = 1; i < program.tiers.length; i++) {
      if (program.tiers[i]!.qualifyingPoints <= program.tiers[i - 1]!.qualifyingPoints) {
        ctx.addIssue({ code: "custom", path: ["tiers", i, "qualifyingPoints"], message: "Tiers must need strictly more points than the one below" });
      }
    }
    const { minPoints, maxPoints } = program.redemption;
    if (minPoints !== undefined && maxPoints !== undefined && minPoints > maxPoints) {
      ctx.addIssue({ code: "custom", path: ["redemption", "minPoints"], message: "minPoints exceeds maxPoints" });
    }
  });

export type Program = z.infer<typeof ProgramSchema>;
export type ExpiryPolicy = z.infer<typeof ExpiryPolicySchema>;

/**
 * What a new database starts with (shared/CONTRACT.md): 1% of the amount actually paid, rounded
 * down; available at once; expiring 24 months after earning; a point pays ₩1; no redemption limits;
 * points spent only with proof that the member is there (the QR token or the member's PIN).
 */
export const defaultProgram: Program = {
  currency: "KRW",
  utcOffsetMinutes: 540,
  pointValueMinor: 1,
  earning: { baseRateBps: 100, partnerRatesBps: {}, categoryMultipliersPct: {}, excludedCategories: [], caps: {}, pendingDays: 0 },
  expiry: { policy: "rolling_months", months: 24 },
  expiryNoticeDays: 30,
  redemption: { allowTypedNumber: false },
  tiers: [
    { code: "basic", name: "Basic", qualifyingPoints: 0, multiplierPct: 100 },
    { code: "silver", name: "Silver", qualifyingPoints: 5_000, multiplierPct: 120 },
    { code: "gold", name: "Gold", qualifyingPoints: 20_000, multiplierPct: 150 },
    { code: "vip", name: "VIP", qualifyingPoints: 50_000, multiplierPct: 200 },
  ],
};
