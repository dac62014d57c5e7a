/** Partner merchants and their API keys. Keys are random, shown once, stored as SHA-256. */
import { and, desc, eq, isNull, lt, sql } from "drizzle-orm";
import { prepared } from "../../db/database.ts";
import { partnerApiKeys, partners } from "../../db/schema.ts";
import type { Deps } from "../deps.ts";
import { AppError } from "../errors.ts";
import { randomSecret, sha256Hex } from "../lib/crypto.ts";
import { decodeCursor, paginate } from "../lib/cursor.ts";
import { newId } from "../lib/ids.ts";
import { auditStatement } from "./audit.ts";
import type { Principal } from "./principal.ts";

export const partnerScopes = ["cards:verify", "purchases:write", "offers:write", "statements:read"] as const;
export type PartnerScope = (typeof partnerScopes)[number];

export const PARTNER_KEY_PREFIX = "dg_pk_";

type PartnerRow = typeof partners.$inferSelect;
type KeyRow = typeof partnerApiKeys.$inferSelect;

export async function createPartner(deps: Deps, actor: Principal, input: { name: string; category: string }) {
  const now = deps.clock();
  const row: PartnerRow = {
    id: newId("partner", now),
    name: input.name,
    category: input.category,
    status: "active",
    contactName: null,
    contactEmail: null,
    contactPhone: null,
    pointCostMilli: 1000,
    redemptionRateMilli: 1000,
    createdAt: now,
    updatedAt: now,
  };
  await deps.database.atomic([
    deps.database.db.insert(partners).values(row),
    auditStatement(deps, actor, "partner.create", { type: "partner", id: row.id }),
  ]);
  return toPartnerView(row);
}

export async function getPartner(deps: Deps, partnerId: string) {
  const [row] = await deps.database.db.select().from(partners).where(eq(partners.id, partnerId));
  if (!row) throw new AppError("not_found", `No partner ${partnerId}.`);
  return toPartnerView(row);
}

export async function listPartners(deps: Deps, page: { cursor?: string | undefined; limit: number }) {
  const rows = await deps.database.db
    .select()
    .from(partners)
    .where(page.cursor ? lt(partners.id, decodeCursor(page.cursor)) : undefined)
    .orderBy(desc(partners.id))
    .limit(page.limit + 1);
  const result = paginate(rows, page.limit, (r) => r.id);
  return { items: result.items.map(toPartnerView), nextCursor: result.nextCursor };
}

export async function createPartnerKey(
  deps: Deps,
  actor: Principal,
  partnerId: string,
  input: { name: string; scopes: PartnerScope[] },
) {
  await getPartner(deps, partnerId);
  const now = deps.clock();
  const key = randomSecret(PARTNER_KEY_PREFIX, 24);
  const row: KeyRow = {
    id: newId("partnerKey", now),
    partnerId,
    name: input.name,
    prefix: key.slice(0, PARTNER_KEY_PREFIX.length + 4),
    keyHash: await sha256Hex(key),
    scopes: input.scopes,
    createdAt: now,
    revokedAt: null,
  };
  await deps.database.atomic([
    deps.database.db.insert(partnerApiKeys).values(row),
    auditStatement(deps, actor, "partner_key.create", { type: "partner_key", id: row.id }),
  ]);
  return { ...toKeyView(row), key };
}

export async function listPartnerKeys(deps: Deps, partnerId: string, page: { cursor?: string | undefined; limit: number }) {
  await getPartner(deps, partnerId);
  const rows = await deps.database.db
    .select()
    .from(partnerApiKeys)
    .where(and(eq(partnerApiKeys.partnerId, partnerId), page.cursor ? lt(partnerApiKeys.id, decodeCursor(page.cursor)) : undefined))
    .orderBy(desc(partnerApiKeys.id))
    .limit(page.limit + 1);
  const result = paginate(rows, page.limit, (r) => r.id);
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

/** Runs on every partner request, so it is prepared once. */
export async function findActiveKeyByHash(deps: Deps, keyHash: string) {
  const query = prepared(deps.database.db, "partners.activeKeyByHash", (db) =>
    db
      .select({ key: partnerApiKeys, partnerStatus: partners.status })
      .from(partnerApiKeys)
      .innerJoin(partners, eq(partners.id, partnerApiKeys.partnerId))
      .where(and(eq(partnerApiKeys.keyHash, sql.placeholder("keyHash")), isNull(partnerApiKeys.revokedAt)))
      .prepare(),
  );
  const row = await query.get({ keyHash });
  return row && row.partnerStatus === "active" ? row.key : null;
}

function toPartnerView(row: PartnerRow) {
  return {
    id: row.id,
    name: row.name,
    category: row.category,
    status: row.status,
    createdAt: new Date(row.createdAt).toISOString(),
  };
}

function toKeyView(row: KeyRow) {
  return {
    id: row.id,
    partnerId: row.partnerId,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes,
    createdAt: new Date(row.createdAt).toISOString(),
    revokedAt: row.revokedAt === null ? null : new Date(row.revokedAt).toISOString(),
  };
}
