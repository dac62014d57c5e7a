/**
 * The one schema both runtimes share. drizzle-kit turns it into db/migrations.
 *
 * Guards that must hold under concurrency live here, in SQL, so that a lost race aborts a whole
 * atomic unit on better-sqlite3 and on D1 alike: CHECKs on balances, UNIQUE contact data, one
 * active card per member, one active signing key.
 * Times are UTC epoch milliseconds (integers).
 */
import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

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
    gender: text("gender", { enum: ["female", "male", "other", "undisclosed"] }),
    region: text("region"),
    tier: text("tier").notNull().default("basic"),
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
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    check("member_balances_available", sql`${t.available} >= 0`),
    check("member_balances_pending", sql`${t.pending} >= 0`),
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
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [check("partners_status", sql`${t.status} IN ('active', 'suspended')`)],
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
export const outbox = sqliteTable(
  "outbox",
  {
    id: text("id").primaryKey(),
    memberId: text("member_id").references(() => members.id),
    channel: text("channel", { enum: ["email", "sms", "push"] }).notNull(),
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
