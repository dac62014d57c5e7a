/**
 * Partner merchants: their contacts, settlement rates and status, and their API keys. Keys are
 * random, shown once, stored as SHA-256; a suspended partner's keys are refused.
 */
import { and, eq, isNull, sql } from "drizzle-orm";
import { prepared, type Statement } from "../../../db/database.ts";
import { partnerApiKeys, partners } from "../../../db/schema.ts";
import type { Deps } from "../../deps.ts";
import { AppError, invalidField } from "../../errors.ts";
import { randomSecret, sha256Hex } from "../../lib/crypto.ts";
import { newId } from "../../lib/ids.ts";
import { toE164 } from "../../lib/phone.ts";
import { actorIdOf, auditStatement, insertAudited } from "../../store/audit.ts";
import type { PartnerScope, Principal } from "../../domain/principal.ts";
import { newestFirst } from "../../store/page.ts";
import { isoTime, isoTimeOrNull } from "../../lib/time.ts";


export const PARTNER_KEY_PREFIX = "dg_pk_";

type PartnerRow = typeof partners.$inferSelect;
type KeyRow = typeof partnerApiKeys.$inferSelect;
export type PartnerStatus = PartnerRow["status"];

/** Thousandths of a minor unit per point: 1000 = ₩1 a point. */
export interface SettlementRates {
  pointCostMilli: number;
  redemptionRateMilli: number;
}

/** Contact fields: absent keeps what is stored, null clears it. */
export interface PartnerContactInput {
  name?: string | null | undefined;
  email?: string | null | undefined;
  phone?: string | null | undefined;
}

export interface CreatePartnerInput {
  name: string;
  category: string;
  contact?: PartnerContactInput | undefined;
  settlement?: SettlementRates | undefined;
}

export interface PartnerPatch {
  name?: string | undefined;
  category?: string | undefined;
  contact?: PartnerContactInput | undefined;
  settlement?: Partial<SettlementRates> | undefined;
  status?: PartnerStatus | undefined;
}

export const DEFAULT_SETTLEMENT_RATES: SettlementRates = { pointCostMilli: 1000, redemptionRateMilli: 1000 };

/** Emails lowercased, phones in E.164 as members' are; a phone that is none is a field error. */
function normalizeContact(contact: PartnerContactInput): PartnerContactInput {
  const email = contact.email == null ? contact.email : contact.email.trim().toLowerCase();
  let phone = contact.phone;
  if (phone != null) {
    const e164 = toE164(phone);
    if (!e164) throw invalidField("contact.phone", "Not a valid phone number");
    phone = e164;
  }
  return { name: contact.name, email, phone };
}

export async function createPartner(deps: Deps, actor: Principal, input: CreatePartnerInput) {
  const now = deps.clock();
  const contact = normalizeContact(input.contact ?? {});
  const rates = input.settlement ?? DEFAULT_SETTLEMENT_RATES;
  const row: PartnerRow = {
    id: newId("partner", now),
    name: input.name,
    category: input.category,
    status: "active",
    contactName: contact.name ?? null,
    contactEmail: contact.email ?? null,
    contactPhone: contact.phone ?? null,
    pointCostMilli: rates.pointCostMilli,
    redemptionRateMilli: rates.redemptionRateMilli,
    createdAt: now,
    updatedAt: now,
  };
  await insertAudited(deps, actor, partners, row, "partner.create", { type: "partner", id: row.id });
  return toPartnerView(row);
}

/**
 * A partner as the caller may see it. To a partner key other partners do not exist: the same
 * 404 as an id never issued, so a key cannot probe for them.
 */
export async function findPartnerRow(deps: Deps, partnerId: string, actor?: Principal): Promise<PartnerRow> {
  const hidden = actor?.role === "partner" && actor.partnerId !== partnerId;
  const [row] = hidden ? [] : await deps.database.db.select().from(partners).where(eq(partners.id, partnerId));
  if (!row) throw new AppError("not_found", `No partner ${partnerId}.`);
  return row;
}

export async function getPartner(deps: Deps, partnerId: string, actor?: Principal) {
  return toPartnerView(await findPartnerRow(deps, partnerId, actor));
}

/**
 * What a purchase needs of its partner: the name for ledger descriptions, whether it may trade,
 * and the settlement rates in force, which the purchase copies when it is recorded.
 */
export async function partnerTerms(deps: Deps, partnerId: string) {
  const query = prepared(deps.database.db, "partners.terms", (db) =>
    db
      .select({ name: partners.name, category: partners.category, status: partners.status, pointCostMilli: partners.pointCostMilli, redemptionRateMilli: partners.redemptionRateMilli })
      .from(partners)
      .where(eq(partners.id, sql.placeholder("id")))
      .prepare(),
  );
  const row = await query.get({ id: partnerId });
  if (!row) throw new AppError("not_found", `No partner ${partnerId}.`);
  return row;
}

/** API names of the columns a patch can change, for the audit trail. */
const patchableFields = {
  name: "name",
  category: "category",
  contactName: "contact.name",
  contactEmail: "contact.email",
  contactPhone: "contact.phone",
  pointCostMilli: "settlement.pointCostMilli",
  redemptionRateMilli: "settlement.redemptionRateMilli",
  status: "status",
} as const;

/**
 * Changes a partner's details, rates or status. New rates apply to purchases made from now on
 * (each purchase keeps the rates it was made under). Suspending a partner refuses its API keys
 * at once; reactivating lets them through again. Every effective change is audited.
 */
export async function updatePartner(deps: Deps, actor: Principal, partnerId: string, patch: PartnerPatch) {
  const current = await findPartnerRow(deps, partnerId);
  const contact = normalizeContact(patch.contact ?? {});
  const wanted: Partial<Pick<PartnerRow, keyof typeof patchableFields>> = {
    ...(patch.name !== undefined && { name: patch.name }),
    ...(patch.category !== undefined && { category: patch.category }),
    ...(contact.name !== undefined && { contactName: contact.name }),
    ...(contact.email !== undefined && { contactEmail: contact.email }),
    ...(contact.phone !== undefined && { contactPhone: contact.phone }),
    ...(patch.settlement?.pointCostMilli !== undefined && { pointCostMilli: patch.settlement.pointCostMilli }),
    ...(patch.settlement?.redemptionRateMilli !== undefined && { redemptionRateMilli: patch.settlement.redemptionRateMilli }),
    ...(patch.status !== undefined && { status: patch.status }),
  };
  const changed = (Object.keys(wanted) as Array<keyof typeof wanted>).filter((key) => wanted[key] !== current[key]);
  if (changed.length === 0) return toPartnerView(current);

  const { db } = deps.database;
  const statements: Statement[] = [];
  if (changed.includes("pointCostMilli") || changed.includes("redemptionRateMilli")) {
    // Before the update, in the same unit: the audit row reads the rates it replaces.
    statements.push(ratesAuditStatement(deps, actor, partnerId, wanted));
  }
  statements.push(db.update(partners).set({ ...wanted, updatedAt: deps.clock() }).where(eq(partners.id, partnerId)));
  if (changed.includes("status")) {
    statements.push(auditStatement(deps, actor, wanted.status === "suspended" ? "partner.suspend" : "partner.reactivate", { type: "partner", id: partnerId }));
  }
  const details = changed.filter((key) => key !== "status" && key !== "pointCostMilli" && key !== "redemptionRateMilli");
  if (details.length > 0) {
    const fields = details.map((key) => patchableFields[key]).join(", ");
    statements.push(auditStatement(deps, actor, "partner.update", { type: "partner", id: partnerId }, `changed ${fields}`));
  }
  await deps.database.atomic(statements);
  return getPartner(deps, partnerId);
}

/**
 * The audit row of a change of settlement rates, reason `{"from": {...}, "to": {...}}`. Both sides
 * are read in SQL when the unit runs, so a concurrent change cannot make "from" wrong, and no row
 * is written when the rates end up as they were.
 */
function ratesAuditStatement(deps: Deps, actor: Principal, partnerId: string, to: Partial<SettlementRates>): Statement {
  const now = deps.clock();
  const cost = sql`coalesce(CAST(${to.pointCostMilli ?? null} AS INTEGER), point_cost_milli)`;
  const redemption = sql`coalesce(CAST(${to.redemptionRateMilli ?? null} AS INTEGER), redemption_rate_milli)`;
  return sql`INSERT INTO audit_log (id, actor_type, actor_id, action, target_type, target_id, reason, at)
    SELECT ${newId("audit", now)}, ${actor.role}, ${actorIdOf(actor)}, 'partner.settlement_rates', 'partner', id,
      json_object(
        'from', json_object('pointCostMilli', point_cost_milli, 'redemptionRateMilli', redemption_rate_milli),
        'to', json_object('pointCostMilli', ${cost}, 'redemptionRateMilli', ${redemption})),
      ${now}
    FROM partners
    WHERE id = ${partnerId} AND (point_cost_milli IS NOT ${cost} OR redemption_rate_milli IS NOT ${redemption})`;
}

export async function listPartners(deps: Deps, page: { cursor?: string | undefined; limit: number }) {
  const result = await newestFirst(deps.database.db, partners, page);
  return { items: result.items.map(toPartnerView), nextCursor: result.nextCursor };
}

export async function createPartnerKey(
  deps: Deps,
  actor: Principal,
  partnerId: string,
  input: { name: string; scopes: PartnerScope[] },
) {
  await findPartnerRow(deps, partnerId);
  const now = deps.clock();
  const key = randomSecret(PARTNER_KEY_PREFIX, 24);
  const row: KeyRow = {
    id: newId("partnerKey", now),
    partnerId,
    name: input.name,
    prefix: key.slice(0, PARTNER_KEY_PREFIX.length + 4),
    keyHash: sha256Hex(key),
    scopes: input.scopes,
    createdAt: now,
    revokedAt: null,
  };
  await insertAudited(deps, actor, partnerApiKeys, row, "partner_key.create", { type: "partner_key", id: row.id });
  return { ...toKeyView(row), key };
}

export async function listPartnerKeys(deps: Deps, partnerId: string, page: { cursor?: string | undefined; limit: number }) {
  await findPartnerRow(deps, partnerId);
  const result = await newestFirst(deps.database.db, partnerApiKeys, page, eq(partnerApiKeys.partnerId, partnerId));
  return { items: result.items.map(toKeyView), nextCursor: result.nextCursor };
}

export async function revokePartnerKey(deps: Deps, actor: Principal, partnerId: string, keyId: string) {
  const [row] = await deps.database.db
    .select()
    .from(partnerApiKeys)
    .where(and(eq(partnerApiKeys.id, keyId), eq(partnerApiKeys.partnerId, partnerId)));
  if (!row) throw new AppError("not_found", `No key ${keyId} for partner ${partnerId}.`);
  const now = deps.clock();
  await deps.database.atomic([
    deps.database.db
      .update(partnerApiKeys)
      .set({ revokedAt: now })
      .where(and(eq(partnerApiKeys.id, keyId), isNull(partnerApiKeys.revokedAt))),
    auditStatement(deps, actor, "partner_key.revoke", { type: "partner_key", id: keyId }),
  ]);
  return toKeyView({ ...row, revokedAt: row.revokedAt ?? now });
}

/**
 * The unrevoked key with this hash and its partner's status (the caller refuses a suspended
 * partner's keys). Runs on every partner request, so it is prepared once.
 */
export async function findActiveKeyByHash(deps: Deps, keyHash: string): Promise<{ key: KeyRow; partnerStatus: PartnerStatus } | null> {
  const query = prepared(deps.database.db, "partners.activeKeyByHash", (db) =>
    db
      .select({ key: partnerApiKeys, partnerStatus: partners.status })
      .from(partnerApiKeys)
      .innerJoin(partners, eq(partners.id, partnerApiKeys.partnerId))
      .where(and(eq(partnerApiKeys.keyHash, sql.placeholder("keyHash")), isNull(partnerApiKeys.revokedAt)))
      .prepare(),
  );
  return (await query.get({ keyHash })) ?? null;
}

function toPartnerView(row: PartnerRow) {
  return {
    id: row.id,
    name: row.name,
    category: row.category,
    status: row.status,
    contact: { name: row.contactName, email: row.contactEmail, phone: row.contactPhone },
    settlement: { pointCostMilli: row.pointCostMilli, redemptionRateMilli: row.redemptionRateMilli },
    createdAt: isoTime(row.createdAt),
    updatedAt: isoTime(row.updatedAt),
  };
}

function toKeyView(row: KeyRow) {
  return {
    id: row.id,
    partnerId: row.partnerId,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes,
    createdAt: isoTime(row.createdAt),
    revokedAt: isoTimeOrNull(row.revokedAt),
  };
}
