/** Request and response schemas shared by routes, exported so tests and the SDK use the same types. */
import { consentChannels, genders } from "../../domain/members.ts";
import { z } from "@hono/zod-openapi";
import { PIN_MAX_ATTEMPTS, PIN_PATTERN } from "../../domain/pin.ts";

export const BirthDateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "Use YYYY-MM-DD")
  .refine((v) => !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) && new Date(`${v}T00:00:00Z`).toISOString().startsWith(v), "Not a real date")
  .refine((v) => v >= "1900-01-01", "Must be 1900-01-01 or later") // "not in the future" is checked against the app's clock
  .openapi({ example: "1991-04-12" });

/**
 * No control character (Unicode category Cc), written as ranges rather than `\p{Cc}`: a pattern
 * needing the `u` flag was published with `/u` inside it, which no value can match.
 */
export const NO_CONTROL_CHARACTERS = /^[^\u0000-\u001f\u007f-\u009f]+$/;

/**
 * A line of text: a name, a region. Every body is already free of other control characters and
 * lone surrogates (src/lib/json-limits.ts); these refuse tabs and line breaks too.
 */
const SingleLineSchema = (max: number) =>
  z.string().trim().min(1, "Required").max(max).refine((text) => !/[\t\n\r]/.test(text), "One line: no tabs or line breaks");

const NameSchema = SingleLineSchema(100);

export const GenderSchema = z.enum(genders);
export const ConsentChannelSchema = z.enum(consentChannels);

export const EnrollMemberSchema = z
  .object({
    name: NameSchema.openapi({ example: "김민준" }),
    preferredName: NameSchema.nullish().openapi({ description: "What partners greet the member by; defaults to a masked name" }),
    email: z.email().max(254).nullish().openapi({ example: "minjun@example.com" }),
    phone: z.string().min(4).max(32).nullish().openapi({ example: "010-1234-5678", description: "Normalised to E.164 (Korean local format accepted)" }),
    birthDate: BirthDateSchema.nullish(),
    gender: GenderSchema.nullish(),
    region: SingleLineSchema(100).nullish().openapi({ example: "서울 강남구" }),
    marketingConsent: z
      .object({
        channels: z.array(ConsentChannelSchema).min(1).max(3),
        source: z.string().trim().min(1).max(100).openapi({ example: "signup-form" }),
      })
      .strict()
      .optional()
      .openapi({ description: "Recorded separately with purpose, channel, time and source" }),
  })
  .strict()
  .openapi("EnrollMember");

export const UpdateMemberSchema = EnrollMemberSchema.omit({ marketingConsent: true })
  .extend({ name: NameSchema.optional() })
  .strict()
  .refine((v) => Object.keys(v).length > 0, "Nothing to change")
  .openapi("UpdateMember");

export const MemberSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    preferredName: z.string().nullable(),
    email: z.string().nullable(),
    phone: z.string().nullable(),
    birthDate: z.string().nullable(),
    gender: GenderSchema.nullable(),
    region: z.string().nullable(),
    tier: z.string(),
    status: z.enum(["active", "closed"]),
    consents: z.array(
      z.object({ purpose: z.string(), channel: z.string(), granted: z.boolean(), source: z.string(), recordedAt: z.string() }),
    ),
    pin: z
      .object({ set: z.boolean(), locked: z.boolean() })
      .openapi({ description: `Whether the member has set a PIN for the till, and whether ${PIN_MAX_ATTEMPTS} wrong entries in a row have locked it (until the member sets a new one)` }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Member");

export const CardSchema = z
  .object({
    number: z.string().openapi({ example: "9410123456789015" }),
    memberId: z.string(),
    status: z.enum(["active", "blocked", "lost", "replaced"]),
    replacedBy: z.string().nullable().openapi({ description: "The successor's number once replaced" }),
    issuedAt: z.string(),
    statusChangedAt: z.string(),
  })
  .openapi("Card");

export const CardNumberParam = z
  .string()
  .regex(/^\d{16}$/, "A card number is 16 digits")
  .openapi({ param: { name: "cardNumber", in: "path" }, example: "9410123456789015" });

export const PosSummarySchema = z
  .object({
    memberId: z.string(),
    cardNumber: z.string(),
    displayName: z.string().openapi({ example: "김*준" }),
    tier: z.string(),
    balance: z.object({ available: z.number().int() }),
    offers: z
      .array(
        z.object({
          id: z.string(),
          name: z.string(),
          kind: z.enum(["percent", "amount", "points_reward"]),
          minSpendMinor: z.number().int(),
          stackable: z.boolean(),
          pointsCost: z.number().int(),
        }),
      )
      .openapi({ description: "Offers the member can use at this till now (the basket decides minimum spend and categories)" }),
  })
  .openapi("PosSummary");

export const VerifyCardSchema = z
  .union([
    z.object({ token: z.string().min(1).max(2048) }).strict(),
    z.object({ cardNumber: z.string().min(1).max(32) }).strict(),
  ])
  .openapi("VerifyCard", { description: "Either the scanned QR token or a card number typed by hand" });

const PinSchema = z.string().regex(PIN_PATTERN, "4 to 6 digits");

export const MemberPinSchema = z
  .object({ pin: PinSchema.openapi({ example: "583071", description: "4 to 6 digits; runs (1234), repeats (0000, 1212) and the most common PINs are refused" }) })
  .strict()
  .openapi("MemberPin");

export const CardTokenSchema = z
  .object({ token: z.string(), expiresAt: z.string(), cardNumber: z.string() })
  .openapi("CardToken");

export const PartnerSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    category: z.string(),
    status: z.enum(["active", "suspended"]).openapi({ description: "A suspended partner's API keys are refused" }),
    contact: z.object({ name: z.string().nullable(), email: z.string().nullable(), phone: z.string().nullable().openapi({ description: "E.164" }) }),
    settlement: z
      .object({
        pointCostMilli: z.number().int().openapi({ description: "What the partner pays per point it issues, in thousandths of a minor unit (1000 = ₩1)" }),
        redemptionRateMilli: z.number().int().openapi({ description: "What the partner is reimbursed per point spent there, in thousandths of a minor unit" }),
      })
      .openapi({ description: "Rates apply to purchases made after they are set; each purchase keeps the rates it was made under" }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Partner");

export const StoreSchema = z
  .object({
    id: z.string().openapi({ example: "sto_01JD0000000000000000000000" }),
    partnerId: z.string(),
    code: z.string().openapi({ example: "GN-01", description: "The partner's own code for the store, unique per partner" }),
    name: z.string(),
    address: z.string().nullable(),
    latitude: z.number().nullable(),
    longitude: z.number().nullable(),
    status: z.enum(["active", "closed"]).openapi({ description: "A closed store takes no new purchases" }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Store");

export const PartnerKeySchema = z
  .object({
    id: z.string(),
    partnerId: z.string(),
    name: z.string(),
    prefix: z.string().openapi({ description: "The first characters, to tell keys apart" }),
    scopes: z.array(z.string()),
    createdAt: z.string(),
    revokedAt: z.string().nullable(),
  })
  .openapi("PartnerKey");

export const StaffSchema = z
  .object({ id: z.string(), email: z.string(), name: z.string(), role: z.enum(["admin", "marketer"]), status: z.string(), createdAt: z.string() })
  .openapi("Staff");

export const SessionSchema = z.object({ token: z.string(), expiresAt: z.string() }).openapi("Session");

export const ContactSchema = z.union([
  z.object({ email: z.email().max(254) }).strict(),
  z.object({ phone: z.string().min(4).max(32) }).strict(),
]);

export type EnrollMemberBody = z.infer<typeof EnrollMemberSchema>;
export type Member = z.infer<typeof MemberSchema>;
export type Card = z.infer<typeof CardSchema>;
export type PosSummary = z.infer<typeof PosSummarySchema>;
export type Partner = z.infer<typeof PartnerSchema>;
export type Store = z.infer<typeof StoreSchema>;

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

export const BalanceSchema = z
  .object({
    available: z.number().int(),
    pending: z.number().int(),
    owed: z.number().int().openapi({ description: "Points owed after a refund of spent points; repaid from future earning" }),
    expiring: z.array(z.object({ points: z.number().int(), expiresAt: z.string() })),
  })
  .openapi("Balance");

export const LedgerItemSchema = z
  .object({
    id: z.string(),
    kind: z.enum(["purchase", "refund", "void", "expire", "release", "adjust"]),
    reasonCode: z.string(),
    description: z.string(),
    points: z.number().int().openapi({ description: "Change to available points" }),
    pendingPoints: z.number().int(),
    owedPoints: z.number().int(),
    partnerId: z.string().nullable(),
    purchaseId: z.string().nullable(),
    correctsTransactionId: z.string().nullable(),
    occurredAt: z.string(),
    recordedAt: z.string(),
  })
  .openapi("LedgerItem");

export const AdjustmentSchema = z
  .object({
    points: z.number().int().min(-1e9).max(1e9).refine((n) => n !== 0, "Must not be zero"),
    reason: z.string().trim().min(3, "Say why (at least 3 characters)").max(500),
  })
  .strict()
  .openapi("Adjustment");

export const AdjustmentResultSchema = z
  .object({ transactionId: z.string(), memberId: z.string(), points: z.number().int(), reason: z.string(), balance: z.object({ available: z.number().int(), pending: z.number().int() }) })
  .openapi("AdjustmentResult");
