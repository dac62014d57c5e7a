/**
 * The one schema both runtimes share. drizzle-kit turns it into db/migrations.
 *
 * Guards that must hold under concurrency live here, in SQL, so that a lost race aborts a whole
 * atomic unit on better-sqlite3 and on D1 alike: CHECKs on balances, UNIQUE contact data, one
 * active card per member, one active signing key.
 * Times are UTC epoch milliseconds (integers).
 */
import { consentChannels, genders } from "../src/domain/members.ts";
import { sql } from "drizzle-orm";
import { check, index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/** Small key/value facts about the installation (the admin token's hash, the seed marker). */
export const settings = sqliteTable("settings", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/** Ed25519 keys that sign session, member and card tokens. Retired keys still verify. */
export const signingKeys = sqliteTable(
  "signing_keys",
  {
    kid: text("kid").primaryKey(),
    publicJwk: text("public_jwk").notNull(),
    // Null when the private key comes from the SIGNING_KEY secret instead of the database.
    privateJwk: text("private_jwk"),
    status: text("status", { enum: ["active", "retired"] }).notNull(),
    createdAt: integer("created_at").notNull(),
    retiredAt: integer("retired_at"),
  },
  (t) => [
    uniqueIndex("signing_keys_one_active").on(t.status).where(sql`status = 'active'`),
    check("signing_keys_status", sql`${t.status} IN ('active', 'retired')`),
  ],
);

export const staffUsers = sqliteTable(
  "staff_users",
  {
    id: text("id").primaryKey(),
    email: text("email").notNull().unique(),
    name: text("name").notNull(),
    role: text("role", { enum: ["admin", "marketer"] }).notNull(),
    passwordHash: text("password_hash").notNull(),
    status: text("status", { enum: ["active", "disabled"] }).notNull().default("active"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    check("staff_users_role", sql`${t.role} IN ('admin', 'marketer')`),
    check("staff_users_status", sql`${t.status} IN ('active', 'disabled')`),
  ],
);

export const members = sqliteTable(
  "members",
  {
    id: text("id").primaryKey(),
    // The name as the member writes it ("김민준", "Minjun Kim"); partners see only displayName.
    name: text("name").notNull(),
    preferredName: text("preferred_name"),
    email: text("email").unique(),
    phone: text("phone").unique(),
    birthDate: text("birth_date"),
    gender: text("gender", { enum: genders }),
    region: text("region"),
    tier: text("tier").notNull().default("basic"),
    // When the current tier term ends and the tier is requalified (null on the base tier).
    tierRequalifyAt: integer("tier_requalify_at"),
    status: text("status", { enum: ["active", "closed"] }).notNull().default("active"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    check("members_contact", sql`${t.email} IS NOT NULL OR ${t.phone} IS NOT NULL`),
    check("members_status", sql`${t.status} IN ('active', 'closed')`),
    check(
      "members_gender",
      sql`${t.gender} IS NULL OR ${t.gender} IN ('female', 'male', 'other', 'undisclosed')`,
    ),
  ],
);

/** Consent is a history: each grant or withdrawal is a new row; the latest per purpose+channel wins. */
export const consents = sqliteTable(
  "consents",
  {
    id: text("id").primaryKey(),
    memberId: text("member_id")
      .notNull()
      .references(() => members.id),
    purpose: text("purpose").notNull(),
    channel: text("channel").notNull(),
    granted: integer("granted", { mode: "boolean" }).notNull(),
    source: text("source").notNull(),
    recordedAt: integer("recorded_at").notNull(),
  },
  (t) => [index("consents_member").on(t.memberId, t.purpose, t.channel, t.recordedAt)],
);

/**
 * The member's points balance. Lives on the member, not the card, so replacing a card keeps it.
 * The ledger (a later migration) moves these numbers; the CHECKs make an overdraft abort the unit.
 */
export const memberBalances = sqliteTable(
  "member_balances",
  {
    memberId: text("member_id")
      .primaryKey()
      .references(() => members.id),
    available: integer("available").notNull().default(0),
    pending: integer("pending").notNull().default(0),
    // Points clawed back by a refund after they were spent: repaid from future earning.
    debt: integer("debt").notNull().default(0),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    check("member_balances_available", sql`${t.available} >= 0`),
    check("member_balances_pending", sql`${t.pending} >= 0`),
    check("member_balances_debt", sql`${t.debt} >= 0`),
  ],
);

export const cards = sqliteTable(
  "cards",
  {
    id: text("id").primaryKey(),
    memberId: text("member_id")
      .notNull()
      .references(() => members.id),
    number: text("number").notNull().unique(),
    status: text("status", { enum: ["active", "blocked", "lost", "replaced"] }).notNull(),
    replacedBy: text("replaced_by"),
    issuedAt: integer("issued_at").notNull(),
    statusChangedAt: integer("status_changed_at").notNull(),
  },
  (t) => [
    uniqueIndex("cards_one_active_per_member").on(t.memberId).where(sql`status = 'active'`),
    index("cards_member").on(t.memberId),
    check("cards_status", sql`${t.status} IN ('active', 'blocked', 'lost', 'replaced')`),
  ],
);

/**
 * Card tokens shown as QR codes. The token carries only its jti; the card is looked up here, so a
 * photographed QR reveals no card number and a blocked card stops every token at once.
 */
export const cardTokens = sqliteTable(
  "card_tokens",
  {
    jti: text("jti").primaryKey(),
    cardId: text("card_id")
      .notNull()
      .references(() => cards.id),
    issuedAt: integer("issued_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    usedAt: integer("used_at"),
  },
  (t) => [index("card_tokens_expires").on(t.expiresAt)],
);

export const partners = sqliteTable(
  "partners",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    category: text("category").notNull(),
    status: text("status", { enum: ["active", "suspended"] }).notNull().default("active"),
    contactName: text("contact_name"),
    contactEmail: text("contact_email"),
    contactPhone: text("contact_phone"),
    // Settlement rates in thousandths of a minor unit per point (1000 = ₩1 a point): what the
    // partner pays for each point it issues, and what it is reimbursed for each point spent there.
    pointCostMilli: integer("point_cost_milli").notNull().default(1000),
    redemptionRateMilli: integer("redemption_rate_milli").notNull().default(1000),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    check("partners_status", sql`${t.status} IN ('active', 'suspended')`),
    check("partners_rates", sql`${t.pointCostMilli} >= 0 AND ${t.redemptionRateMilli} >= 0`),
  ],
);

/** A partner's stores (a cinema's branches); purchases and offers may name one. */
export const stores = sqliteTable(
  "stores",
  {
    id: text("id").primaryKey(),
    partnerId: text("partner_id")
      .notNull()
      .references(() => partners.id),
    code: text("code").notNull(),
    name: text("name").notNull(),
    address: text("address"),
    latitude: real("latitude"),
    longitude: real("longitude"),
    status: text("status", { enum: ["active", "closed"] }).notNull().default("active"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("stores_partner_code").on(t.partnerId, t.code),
    check("stores_status", sql`${t.status} IN ('active', 'closed')`),
    check("stores_coordinates", sql`(${t.latitude} IS NULL OR ${t.latitude} BETWEEN -90 AND 90) AND (${t.longitude} IS NULL OR ${t.longitude} BETWEEN -180 AND 180)`),
  ],
);

/** Partner API keys: only a SHA-256 of the key is kept; the key itself is shown once. */
export const partnerApiKeys = sqliteTable(
  "partner_api_keys",
  {
    id: text("id").primaryKey(),
    partnerId: text("partner_id")
      .notNull()
      .references(() => partners.id),
    name: text("name").notNull(),
    prefix: text("prefix").notNull(),
    keyHash: text("key_hash").notNull().unique(),
    scopes: text("scopes", { mode: "json" }).$type<string[]>().notNull(),
    createdAt: integer("created_at").notNull(),
    revokedAt: integer("revoked_at"),
  },
  (t) => [index("partner_api_keys_partner").on(t.partnerId)],
);

/** One-time sign-in codes for members; only a hash of the code is kept. */
export const otpCodes = sqliteTable(
  "otp_codes",
  {
    id: text("id").primaryKey(),
    recipient: text("recipient").notNull(),
    memberId: text("member_id")
      .notNull()
      .references(() => members.id),
    codeHash: text("code_hash").notNull(),
    attempts: integer("attempts").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    consumedAt: integer("consumed_at"),
  },
  (t) => [
    index("otp_codes_recipient").on(t.recipient, t.createdAt),
    check("otp_codes_attempts", sql`${t.attempts} <= 5`),
  ],
);

/** Messages to members. A sender (the dev sender only records) picks up pending rows. */
/**
 * A member's PIN, which proves at a till that the member is there when points are spent on a
 * typed card number. Only its PBKDF2 hash is kept. Every check takes an attempt in SQL before
 * comparing; at the limit the PIN is locked until the member sets a new one (CHECK: the count
 * can never pass it). Its own table, so no read of members ever carries the hash.
 */
export const memberPins = sqliteTable(
  "member_pins",
  {
    memberId: text("member_id")
      .primaryKey()
      .references(() => members.id),
    pinHash: text("pin_hash").notNull(),
    // Wrong PINs since it was set or last entered right.
    failedAttempts: integer("failed_attempts").notNull().default(0),
    setAt: integer("set_at").notNull(),
  },
  (t) => [check("member_pins_failed_attempts", sql`${t.failedAttempts} BETWEEN 0 AND 5`)],
);

export const outbox = sqliteTable(
  "outbox",
  {
    id: text("id").primaryKey(),
    memberId: text("member_id").references(() => members.id),
    channel: text("channel", { enum: consentChannels }).notNull(),
    recipient: text("recipient").notNull(),
    subject: text("subject"),
    body: text("body").notNull(),
    kind: text("kind").notNull(),
    status: text("status", { enum: ["pending", "sent", "failed"] }).notNull(),
    provider: text("provider"),
    createdAt: integer("created_at").notNull(),
    sentAt: integer("sent_at"),
  },
  (t) => [
    index("outbox_created").on(t.createdAt),
    check("outbox_status", sql`${t.status} IN ('pending', 'sent', 'failed')`),
  ],
);

/** Who did what to whom: admin actions, key management, later every staff read of a profile. */
export const auditLog = sqliteTable(
  "audit_log",
  {
    id: text("id").primaryKey(),
    actorType: text("actor_type").notNull(),
    actorId: text("actor_id").notNull(),
    action: text("action").notNull(),
    targetType: text("target_type").notNull(),
    targetId: text("target_id").notNull(),
    reason: text("reason"),
    at: integer("at").notNull(),
  },
  (t) => [index("audit_log_target").on(t.targetType, t.targetId, t.at)],
);

/** The program's rules (src/domain/program.ts), one row per version; the highest is in force. */
export const programVersions = sqliteTable("program_versions", {
  version: integer("version").primaryKey(),
  config: text("config").notNull(),
  createdAt: integer("created_at").notNull(),
  createdBy: text("created_by").notNull(),
});

export const purchases = sqliteTable(
  "purchases",
  {
    id: text("id").primaryKey(),
    partnerId: text("partner_id")
      .notNull()
      .references(() => partners.id),
    receiptId: text("receipt_id").notNull(),
    storeId: text("store_id"),
    memberId: text("member_id")
      .notNull()
      .references(() => members.id),
    cardId: text("card_id")
      .notNull()
      .references(() => cards.id),
    amountMinor: integer("amount_minor").notNull(),
    currency: text("currency").notNull(),
    redeemedPoints: integer("redeemed_points").notNull(),
    earnedPoints: integer("earned_points").notNull(),
    payableMinor: integer("payable_minor").notNull(),
    refundedMinor: integer("refunded_minor").notNull().default(0),
    clawedPoints: integer("clawed_points").notNull().default(0),
    restoredPoints: integer("restored_points").notNull().default(0),
    programVersion: integer("program_version").notNull(),
    items: text("items", { mode: "json" }).$type<Array<{ sku: string; category: string; amountMinor: number; quantity: number }>>(),
    /**
     * The partner's business category when the sale was made: the profile's category of a purchase
     * without items, which its refunds take back from (the partner's category may change since).
     */
    category: text("category"),
    breakdown: text("breakdown", { mode: "json" }).notNull(),
    /** Offer discounts on this purchase, all offers together (details in purchase_offers). */
    discountMinor: integer("discount_minor").notNull().default(0),
    refundedDiscountMinor: integer("refunded_discount_minor").notNull().default(0),
    // The partner's settlement rates when the purchase was made: later refunds settle at these.
    pointCostMilli: integer("point_cost_milli").notNull().default(1000),
    redemptionRateMilli: integer("redemption_rate_milli").notNull().default(1000),
    /** The QR token presented, if any: a token pays for one purchase only. */
    cardTokenJti: text("card_token_jti"),
    occurredAt: integer("occurred_at").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    // The business key: a POS that resends a receipt days later cannot earn twice.
    uniqueIndex("purchases_partner_receipt").on(t.partnerId, t.receiptId),
    uniqueIndex("purchases_card_token").on(t.cardTokenJti).where(sql`card_token_jti IS NOT NULL`),
    index("purchases_partner_time").on(t.partnerId, t.createdAt),
    check("purchases_discount", sql`${t.discountMinor} >= 0 AND ${t.refundedDiscountMinor} >= 0 AND ${t.refundedDiscountMinor} <= ${t.discountMinor}`),
    // Covers the points a member earned since a time (caps, tiers: on every purchase), so summing
    // them never leaves the index.
    index("purchases_member_earned").on(t.memberId, t.occurredAt, t.earnedPoints, t.clawedPoints),
    check("purchases_amounts", sql`${t.amountMinor} >= 0 AND ${t.payableMinor} >= 0 AND ${t.redeemedPoints} >= 0 AND ${t.earnedPoints} >= 0`),
    // Refunds never exceed what is left.
    check("purchases_refunded", sql`${t.refundedMinor} >= 0 AND ${t.refundedMinor} <= ${t.amountMinor}`),
    check("purchases_clawed", sql`${t.clawedPoints} >= 0 AND ${t.clawedPoints} <= ${t.earnedPoints}`),
    check("purchases_restored", sql`${t.restoredPoints} >= 0 AND ${t.restoredPoints} <= ${t.redeemedPoints}`),
  ],
);

/**
 * One movement of points: ≥ 2 entries summing to zero. Immutable (triggers in the migration);
 * corrections are new transactions that point at what they correct.
 */
export const ledgerTransactions = sqliteTable(
  "ledger_transactions",
  {
    id: text("id").primaryKey(),
    memberId: text("member_id")
      .notNull()
      .references(() => members.id),
    kind: text("kind", { enum: ["purchase", "refund", "void", "expire", "release", "adjust"] }).notNull(),
    reasonCode: text("reason_code").notNull(),
    description: text("description").notNull(),
    partnerId: text("partner_id"),
    purchaseId: text("purchase_id").references(() => purchases.id),
    correctsTxnId: text("corrects_txn_id"),
    // A transaction is reversed at most once.
    reversesTxnId: text("reverses_txn_id").unique(),
    actorType: text("actor_type").notNull(),
    actorId: text("actor_id").notNull(),
    occurredAt: integer("occurred_at").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    index("ledger_transactions_member").on(t.memberId, t.id),
    // Monthly partner statements read one partner's month of transactions.
    index("ledger_transactions_partner_time").on(t.partnerId, t.createdAt),
    // Every purchase has exactly one purchase transaction.
    uniqueIndex("ledger_transactions_one_per_purchase").on(t.purchaseId).where(sql`kind = 'purchase'`),
    check("ledger_transactions_kind", sql`${t.kind} IN ('purchase', 'refund', 'void', 'expire', 'release', 'adjust')`),
  ],
);

/**
 * Accounts are names: member:{id} (available), member_pending:{id}, member_debt:{id},
 * issuance:{partnerId} (the points a partner issued), redemption:{partnerId}, breakage, adjustment.
 */
export const ledgerEntries = sqliteTable(
  "ledger_entries",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    txnId: text("txn_id")
      .notNull()
      .references(() => ledgerTransactions.id),
    account: text("account").notNull(),
    points: integer("points").notNull(),
  },
  (t) => [index("ledger_entries_txn").on(t.txnId), index("ledger_entries_account").on(t.account), check("ledger_entries_nonzero", sql`${t.points} <> 0`)],
);

/** Earned points by earning, so they are spent earliest-expiry first and expire on time. */
export const pointLots = sqliteTable(
  "point_lots",
  {
    id: text("id").primaryKey(),
    memberId: text("member_id")
      .notNull()
      .references(() => members.id),
    txnId: text("txn_id")
      .notNull()
      .references(() => ledgerTransactions.id),
    points: integer("points").notNull(),
    remaining: integer("remaining").notNull(),
    earnedAt: integer("earned_at").notNull(),
    availableAt: integer("available_at").notNull(),
    // Set once the lot's points moved from pending to available.
    releasedAt: integer("released_at"),
    expiresAt: integer("expires_at"),
    noticeSentAt: integer("notice_sent_at"),
  },
  (t) => [
    index("point_lots_member").on(t.memberId, t.expiresAt),
    index("point_lots_expiry").on(t.expiresAt),
    index("point_lots_release").on(t.availableAt),
    check("point_lots_remaining", sql`${t.remaining} >= 0 AND ${t.remaining} <= ${t.points}`),
  ],
);

/** Which lots a transaction drew from (negative) or gave back to (positive). */
export const lotMovements = sqliteTable(
  "lot_movements",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    txnId: text("txn_id")
      .notNull()
      .references(() => ledgerTransactions.id),
    lotId: text("lot_id")
      .notNull()
      .references(() => pointLots.id),
    points: integer("points").notNull(),
  },
  (t) => [index("lot_movements_txn").on(t.txnId), index("lot_movements_lot").on(t.lotId)],
);

/** Which units of a purchase's items each refund returned, so no unit is refunded twice. */
export const purchaseRefundItems = sqliteTable(
  "purchase_refund_items",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    purchaseId: text("purchase_id")
      .notNull()
      .references(() => purchases.id),
    txnId: text("txn_id")
      .notNull()
      .references(() => ledgerTransactions.id),
    sku: text("sku").notNull(),
    quantity: integer("quantity").notNull(),
  },
  (t) => [index("purchase_refund_items_purchase").on(t.purchaseId, t.sku), check("purchase_refund_items_quantity", sql`${t.quantity} > 0`)],
);

/** Idempotency-Key records, written with the change they answer: caller + route + key; kept 7 days. */
export const idempotencyKeys = sqliteTable(
  "idempotency_keys",
  {
    scope: text("scope").notNull(),
    route: text("route").notNull(),
    key: text("key").notNull(),
    fingerprint: text("fingerprint").notNull(),
    responseStatus: integer("response_status").notNull(),
    responseBody: text("response_body").notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.scope, t.route, t.key] }), index("idempotency_keys_expires").on(t.expiresAt)],
);

export const tierHistory = sqliteTable(
  "tier_history",
  {
    id: text("id").primaryKey(),
    memberId: text("member_id")
      .notNull()
      .references(() => members.id),
    fromTier: text("from_tier").notNull(),
    toTier: text("to_tier").notNull(),
    reason: text("reason").notNull(),
    qualifyingPoints: integer("qualifying_points").notNull(),
    at: integer("at").notNull(),
  },
  (t) => [index("tier_history_member").on(t.memberId, t.at)],
);

/**
 * Offers: a discount (percentage with a cap, or a fixed amount) or a reward paid in points, owned by
 * a partner or by the operator (partner_id NULL: usable at every partner, or those listed).
 * Rules are a JSON document validated by src/domain/offers.ts; what must hold under concurrency —
 * the global budget — is in columns with CHECKs, so the last unit cannot be given twice.
 */
export const offers = sqliteTable(
  "offers",
  {
    id: text("id").primaryKey(),
    partnerId: text("partner_id").references(() => partners.id),
    name: text("name").notNull(),
    description: text("description"),
    kind: text("kind", { enum: ["percent", "amount", "points_reward"] }).notNull(),
    rules: text("rules", { mode: "json" }).notNull(),
    status: text("status", { enum: ["active", "paused", "ended"] }).notNull().default("active"),
    validFrom: integer("valid_from").notNull(),
    validUntil: integer("valid_until"),
    /** Budget: NULL is unlimited; the remaining count and amount may never go below zero. */
    budgetCount: integer("budget_count"),
    budgetAmountMinor: integer("budget_amount_minor"),
    usedCount: integer("used_count").notNull().default(0),
    usedAmountMinor: integer("used_amount_minor").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    index("offers_partner").on(t.partnerId, t.status),
    check("offers_kind", sql`${t.kind} IN ('percent', 'amount', 'points_reward')`),
    check("offers_status", sql`${t.status} IN ('active', 'paused', 'ended')`),
    check("offers_budget_count", sql`${t.usedCount} >= 0 AND (${t.budgetCount} IS NULL OR ${t.usedCount} <= ${t.budgetCount})`),
    check("offers_budget_amount", sql`${t.usedAmountMinor} >= 0 AND (${t.budgetAmountMinor} IS NULL OR ${t.usedAmountMinor} <= ${t.budgetAmountMinor})`),
  ],
);

/** What each offer gave on a purchase, who funds it, and how much a refund has taken back. */
export const purchaseOffers = sqliteTable(
  "purchase_offers",
  {
    purchaseId: text("purchase_id")
      .notNull()
      .references(() => purchases.id),
    offerId: text("offer_id")
      .notNull()
      .references(() => offers.id),
    memberId: text("member_id").notNull(),
    discountMinor: integer("discount_minor").notNull(),
    operatorFundedMinor: integer("operator_funded_minor").notNull(),
    pointsCost: integer("points_cost").notNull().default(0),
    refundedDiscountMinor: integer("refunded_discount_minor").notNull().default(0),
    refundedOperatorFundedMinor: integer("refunded_operator_funded_minor").notNull().default(0),
    /** Set when the purchase is fully refunded: the use no longer counts against limits. */
    releasedAt: integer("released_at"),
    occurredAt: integer("occurred_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.purchaseId, t.offerId] }),
    index("purchase_offers_member").on(t.memberId, t.offerId, t.occurredAt),
    check(
      "purchase_offers_amounts",
      sql`${t.discountMinor} >= 0 AND ${t.operatorFundedMinor} BETWEEN 0 AND ${t.discountMinor} AND ${t.refundedDiscountMinor} BETWEEN 0 AND ${t.discountMinor}
          AND ${t.refundedOperatorFundedMinor} BETWEEN 0 AND ${t.operatorFundedMinor}`,
    ),
  ],
);

/** A refund's share of an offer's discount, booked when the refund happens (for settlement). */
export const purchaseOfferRefunds = sqliteTable(
  "purchase_offer_refunds",
  {
    txnId: text("txn_id")
      .notNull()
      .references(() => ledgerTransactions.id),
    purchaseId: text("purchase_id")
      .notNull()
      .references(() => purchases.id),
    offerId: text("offer_id")
      .notNull()
      .references(() => offers.id),
    discountMinor: integer("discount_minor").notNull(),
    operatorFundedMinor: integer("operator_funded_minor").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.txnId, t.offerId] }), index("purchase_offer_refunds_purchase").on(t.purchaseId)],
);

/**
 * Per-member offer limits, one row per offer, member and window ("day:2026-03-02", "total"): the
 * count is raised in the purchase's unit and the CHECK refuses the use beyond the limit.
 */
export const offerMemberUsage = sqliteTable(
  "offer_member_usage",
  {
    offerId: text("offer_id")
      .notNull()
      .references(() => offers.id),
    memberId: text("member_id")
      .notNull()
      .references(() => members.id),
    window: text("window").notNull(),
    uses: integer("uses").notNull(),
    maxUses: integer("max_uses").notNull(),
  },
  (t) => [primaryKey({ columns: [t.offerId, t.memberId, t.window] }), check("offer_member_usage_limit", sql`${t.uses} >= 0 AND ${t.uses} <= ${t.maxUses}`)],
);

/**
 * Everything a member does, as typed interactions feeding the customer profile: written in the
 * same atomic unit as the business change it records.
 */
export const interactions = sqliteTable(
  "interactions",
  {
    id: text("id").primaryKey(),
    memberId: text("member_id")
      .notNull()
      .references(() => members.id),
    kind: text("kind").notNull(),
    channel: text("channel").notNull(),
    partnerId: text("partner_id"),
    storeId: text("store_id"),
    amountMinor: integer("amount_minor"),
    points: integer("points"),
    reference: text("reference"),
    attributes: text("attributes", { mode: "json" }),
    /** Who sent an ingested event ("partner:prt_…", "staff") and its own id for it: a resend is recognised. */
    source: text("source"),
    externalId: text("external_id"),
    occurredAt: integer("occurred_at").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    index("interactions_member_time").on(t.memberId, t.occurredAt),
    index("interactions_kind_time").on(t.kind, t.occurredAt),
    // A member's purchases (or other kind) in a window, counted and summed within the index: segment
    // rules on purchase windows read it per member, untouched by the member's other interactions.
    index("interactions_member_kind").on(t.memberId, t.kind, t.occurredAt, t.amountMinor),
    uniqueIndex("interactions_source_event").on(t.source, t.externalId).where(sql`external_id IS NOT NULL`),
  ],
);

/**
 * The customer profile, kept up to date by every interaction in the same atomic unit with O(1)
 * work: what recency, frequency and monetary value, the lifetime-value models and the 360 view
 * read without scanning history.
 */
export const memberProfiles = sqliteTable("member_profiles", {
  memberId: text("member_id")
    .primaryKey()
    .references(() => members.id),
  firstPurchaseAt: integer("first_purchase_at"),
  /** The first purchase's amount: the spend model uses repeat purchases only. */
  firstPurchaseMinor: integer("first_purchase_minor").notNull().default(0),
  lastPurchaseAt: integer("last_purchase_at"),
  purchaseCount: integer("purchase_count").notNull().default(0),
  /** Distinct local days with a purchase (same-day purchases merged, as the models count them). */
  purchaseDays: integer("purchase_days").notNull().default(0),
  monetaryMinor: integer("monetary_minor").notNull().default(0),
  refundCount: integer("refund_count").notNull().default(0),
  refundedMinor: integer("refunded_minor").notNull().default(0),
  pointsEarned: integer("points_earned").notNull().default(0),
  pointsRedeemed: integer("points_redeemed").notNull().default(0),
  pointsExpired: integer("points_expired").notNull().default(0),
  offersUsed: integer("offers_used").notNull().default(0),
  interactionCount: integer("interaction_count").notNull().default(0),
  lastInteractionAt: integer("last_interaction_at"),
  lastContactAt: integer("last_contact_at"),
  satisfactionSum: integer("satisfaction_sum").notNull().default(0),
  satisfactionCount: integer("satisfaction_count").notNull().default(0),
  updatedAt: integer("updated_at").notNull(),
});

/** Per member and partner (or item category): how often and how much, for favourites. */
export const memberAffinities = sqliteTable(
  "member_affinities",
  {
    memberId: text("member_id")
      .notNull()
      .references(() => members.id),
    /** "partner:prt_…" or "category:ticket". */
    subject: text("subject").notNull(),
    purchases: integer("purchases").notNull().default(0),
    amountMinor: integer("amount_minor").notNull().default(0),
    lastAt: integer("last_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.memberId, t.subject] })],
);

/**
 * Scores the recompute job writes: RFM, the lifetime-value models, the lifecycle stage. No index
 * beyond the key: every score changes daily, and keeping indexes on the segment and CLV cost 9 s
 * of a million-member recompute (12.5 s against 21.7 s), while what reads them (segment rules,
 * analytics) scans the table in well under a second anyway.
 */
export const memberScores = sqliteTable(
  "member_scores",
  {
    memberId: text("member_id")
      .primaryKey()
      .references(() => members.id),
    recencyDays: integer("recency_days"),
    r: integer("r"),
    f: integer("f"),
    m: integer("m"),
    rfmSegment: text("rfm_segment"),
    pAlive: real("p_alive"),
    expectedPurchases: real("expected_purchases"),
    expectedSpendMinor: integer("expected_spend_minor"),
    clvMinor: integer("clv_minor"),
    lifecycle: text("lifecycle").notNull(),
    /** A tier the member's spend holds (a royal tier of the top N%), whatever their points. */
    spendTier: text("spend_tier"),
    scoredAt: integer("scored_at").notNull(),
  },
);

/**
 * Rule segments: a marketer's condition tree (src/domain/segments.ts), evaluated as one SQL WHERE
 * clause, and the membership it last materialised. A refresh holds a lease so two refreshes of one
 * segment never record the same entry or exit twice.
 */
export const segments = sqliteTable(
  "segments",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    description: text("description"),
    rule: text("rule", { mode: "json" }).notNull(),
    memberCount: integer("member_count").notNull().default(0),
    refreshedAt: integer("refreshed_at"),
    /** Set while a refresh runs; a crashed refresh's lease simply runs out. */
    refreshLeaseUntil: integer("refresh_lease_until"),
    createdBy: text("created_by").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [check("segments_member_count", sql`${t.memberCount} >= 0`)],
);

/** Who is in a segment since when. The primary key also answers `inSegment` lookups. */
export const segmentMembers = sqliteTable(
  "segment_members",
  {
    segmentId: text("segment_id")
      .notNull()
      .references(() => segments.id),
    memberId: text("member_id")
      .notNull()
      .references(() => members.id),
    enteredAt: integer("entered_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.segmentId, t.memberId] }), index("segment_members_member").on(t.memberId)],
);

/** The typed custom member attributes an admin declared (marital status, occupation …). */
export const customAttributeDefinitions = sqliteTable(
  "custom_attribute_definitions",
  {
    key: text("key").primaryKey(),
    type: text("type", { enum: ["text", "number", "boolean", "enum"] }).notNull(),
    /** The allowed values of an enum; null for the other types. */
    allowedValues: text("allowed_values", { mode: "json" }).$type<string[]>(),
    description: text("description"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    check("custom_attribute_definitions_type", sql`${t.type} IN ('text', 'number', 'boolean', 'enum')`),
    check("custom_attribute_definitions_values", sql`(${t.type} = 'enum') = (${t.allowedValues} IS NOT NULL)`),
  ],
);

/** A member's values of declared custom attributes: text and enum in value_text, numbers and booleans (0/1) in value_number. */
export const memberAttributes = sqliteTable(
  "member_attributes",
  {
    memberId: text("member_id")
      .notNull()
      .references(() => members.id),
    key: text("key")
      .notNull()
      .references(() => customAttributeDefinitions.key),
    valueText: text("value_text"),
    valueNumber: real("value_number"),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.memberId, t.key] }),
    check("member_attributes_one_value", sql`(${t.valueText} IS NULL) <> (${t.valueNumber} IS NULL)`),
  ],
);
