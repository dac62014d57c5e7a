/** The till's purchase, its quote and its record, and refunds; the inferred types are what the SDK and tests use. */
import { z } from "@hono/zod-openapi";
import { NO_CONTROL_CHARACTERS, PinSchema } from "../shared/schemas.ts";

const uniqueSkus = (items: Array<{ sku: string }>) => new Set(items.map((i) => i.sku)).size === items.length;

export const PurchaseItemSchema = z
  .object({
    sku: z.string().trim().min(1).max(64),
    category: z.string().trim().min(1).max(64).openapi({ example: "snacks" }),
    amountMinor: z.number().int().min(0).max(1e12).openapi({ description: "The line's total" }),
    quantity: z.number().int().min(1).max(100_000),
  })
  .strict();

export const PurchaseSchema = z
  .object({
    card: z
      .union([
        z.object({ token: z.string().min(1).max(2048) }).strict(),
        z
          .object({
            number: z.string().min(1).max(32),
            pin: PinSchema.optional().openapi({ description: "The member's PIN, entered at the till: with a typed number, what lets the purchase spend points" }),
          })
          .strict(),
      ])
      .openapi({
        description:
          "The scanned QR token, or the number typed by hand. Spending points (redeemPoints, or an offer paid with points) on a typed number needs the member's PIN too, unless the program allows it (redemption.allowTypedNumber); earning needs neither",
      }),
    receiptId: z.string().trim().min(1).max(64).regex(NO_CONTROL_CHARACTERS, "No control characters").openapi({ description: "Unique per partner, forever" }),
    storeId: z.string().trim().min(1).max(64).regex(NO_CONTROL_CHARACTERS, "No control characters").optional(),
    amountMinor: z
      .number()
      .int()
      .min(0)
      .max(1e12)
      .openapi({ description: "The sale before dangol's offers and points (after any discount the till gave on its own)" }),
    currency: z.string().regex(/^[A-Z]{3}$/, "ISO-4217, e.g. KRW").openapi({ example: "KRW" }),
    items: z.array(PurchaseItemSchema).min(1).max(500).refine(uniqueSkus, "Each sku once (add up its quantity)").optional(),
    redeemPoints: z.number().int().min(0).max(1e12).optional(),
    offerIds: z
      .array(z.string().min(1).max(64))
      .max(20)
      .refine((ids) => new Set(ids).size === ids.length, "Each offer once")
      .optional()
      .openapi({ description: "Exactly these offers (each must be eligible). Omitted: every eligible discount is applied automatically; rewards paid in points only when named" }),
    occurredAt: z.iso.datetime({ offset: true }).optional().openapi({ description: "When the sale happened (default: now; at most 30 days back)" }),
    partnerId: z.string().min(1).max(64).optional().openapi({ description: "Staff only: the partner the purchase is recorded for" }),
  })
  .strict()
  .openapi("Purchase");

const BreakdownLineSchema = z.object({ rule: z.string(), points: z.number().int() }).passthrough();

export const AppliedOfferSchema = z
  .object({
    offerId: z.string(),
    name: z.string(),
    kind: z.enum(["percent", "amount", "points_reward"]),
    discountMinor: z.number().int(),
    operatorFundedMinor: z.number().int(),
    pointsCost: z.number().int(),
  })
  .openapi("AppliedOffer");

const pricedFields = {
  receiptId: z.string(),
  memberId: z.string(),
  partnerId: z.string(),
  amountMinor: z.number().int(),
  currency: z.string(),
  discountMinor: z.number().int(),
  offers: z.array(AppliedOfferSchema),
  pointsRedeemed: z.number().int().openapi({ description: "All points spent: redeemed as money and paying for rewards" }),
  pointsEarned: z.number().int(),
  pointsPending: z.number().int(),
  payableMinor: z.number().int(),
  breakdown: z.array(BreakdownLineSchema),
  occurredAt: z.string(),
};

export const PurchaseResultSchema = z
  .object({ purchaseId: z.string(), ...pricedFields, balance: z.object({ available: z.number().int(), pending: z.number().int() }) })
  .openapi("PurchaseResult");

export const PurchaseQuoteSchema = z
  .object({
    ...pricedFields,
    pointsUsable: z.number().int().openapi({ description: "The most points the member could still put towards this purchase" }),
    balance: z.object({ available: z.number().int(), pending: z.number().int() }),
  })
  .openapi("PurchaseQuote");

export const PurchaseRecordSchema = z
  .object({
    purchaseId: z.string(),
    receiptId: z.string(),
    partnerId: z.string(),
    storeId: z.string().nullable(),
    memberId: z.string(),
    amountMinor: z.number().int(),
    currency: z.string(),
    discountMinor: z.number().int(),
    refundedDiscountMinor: z.number().int(),
    pointsRedeemed: z.number().int(),
    pointsEarned: z.number().int(),
    payableMinor: z.number().int(),
    refundedMinor: z.number().int(),
    pointsClawedBack: z.number().int(),
    pointsRestored: z.number().int(),
    status: z.enum(["completed", "partially_refunded", "refunded"]),
    programVersion: z.number().int(),
    occurredAt: z.string(),
  })
  .openapi("PurchaseRecord");

export const RefundSchema = z
  .union([
    z.object({ amountMinor: z.number().int().min(1).max(1e12) }).strict(),
    z
      .object({
        items: z
          .array(z.object({ sku: z.string().trim().min(1).max(64), quantity: z.number().int().min(1).max(100_000) }).strict())
          .min(1)
          .max(500)
          .refine(uniqueSkus, "Each sku once"),
      })
      .strict(),
  ])
  .openapi("Refund", { description: "An amount, or units of the purchase's items (their amount is worked out pro rata)" });

export const RefundResultSchema = z
  .object({
    refundId: z.string(),
    purchaseId: z.string(),
    amountMinor: z.number().int(),
    discountReversedMinor: z.number().int().openapi({ description: "The offers' discount on the refunded share, taken back" }),
    cashReturnedMinor: z.number().int().openapi({ description: "The money to hand back: the cash paid, pro rata to the amount refunded (all refunds of a purchase together return exactly the cash paid)" }),
    pointsClawedBack: z.number().int(),
    pointsRestored: z.number().int(),
    pointsOwed: z.number().int().openapi({ description: "Clawed-back points already spent: repaid from future earning" }),
    balance: z.object({ available: z.number().int(), pending: z.number().int() }),
  })
  .openapi("RefundResult");

export type PurchaseBody = z.infer<typeof PurchaseSchema>;
export type PurchaseResult = z.infer<typeof PurchaseResultSchema>;
export type PurchaseQuote = z.infer<typeof PurchaseQuoteSchema>;
export type PurchaseRecord = z.infer<typeof PurchaseRecordSchema>;
export type RefundBody = z.infer<typeof RefundSchema>;
export type RefundResult = z.infer<typeof RefundResultSchema>;
