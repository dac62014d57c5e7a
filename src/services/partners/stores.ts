/**
 * A partner's stores (a cinema's branches). Each has the partner's own code, unique per partner;
 * a closed store takes no new purchases. A partner key sees its own partner's stores only.
 */
import { and, eq, sql } from "drizzle-orm";
import { isConstraintViolation, prepared } from "../../../db/database.ts";
import { stores } from "../../../db/schema.ts";
import type { Deps } from "../../deps.ts";
import { AppError, invalidField } from "../../errors.ts";
import { newId } from "../../lib/ids.ts";
import { auditStatement, insertAudited } from "../../store/audit.ts";
import { findPartnerRow } from "./partners.ts";
import type { Principal } from "../../domain/principal.ts";
import { newestFirst } from "../../store/page.ts";
import { isoTime } from "../../lib/time.ts";

type StoreRow = typeof stores.$inferSelect;
export type StoreStatus = StoreRow["status"];

export interface CreateStoreInput {
  code: string;
  name: string;
  address?: string | null | undefined;
  latitude?: number | null | undefined;
  longitude?: number | null | undefined;
}

/** Absent keeps what is stored, null clears it. */
export interface StorePatch {
  name?: string | undefined;
  address?: string | null | undefined;
  latitude?: number | null | undefined;
  longitude?: number | null | undefined;
  status?: StoreStatus | undefined;
}

export async function createStore(deps: Deps, actor: Principal, partnerId: string, input: CreateStoreInput) {
  await findPartnerRow(deps, partnerId);
  const now = deps.clock();
  const row: StoreRow = {
    id: newId("store", now),
    partnerId,
    code: input.code,
    name: input.name,
    address: input.address ?? null,
    latitude: input.latitude ?? null,
    longitude: input.longitude ?? null,
    status: "active",
    createdAt: now,
    updatedAt: now,
  };
  try {
    await insertAudited(deps, actor, stores, row, "store.create", { type: "store", id: row.id });
  } catch (error) {
    // UNIQUE (partner_id, code) decides, also between two simultaneous creations.
    if (isConstraintViolation(error, "UNIQUE", "stores.partner_id")) throw await codeTaken(deps, partnerId, input.code);
    throw error;
  }
  return toStoreView(row);
}

async function codeTaken(deps: Deps, partnerId: string, code: string): Promise<AppError> {
  const [holder] = await deps.database.db
    .select({ id: stores.id })
    .from(stores)
    .where(and(eq(stores.partnerId, partnerId), eq(stores.code, code)));
  return new AppError("store_code_taken", `This partner already has a store with code ${code}.`, {
    storeId: holder?.id ?? null,
    errors: [{ field: "code", message: "Already used by another store of this partner" }],
  });
}

export async function listStores(deps: Deps, actor: Principal, partnerId: string, page: { cursor?: string | undefined; limit: number }) {
  await findPartnerRow(deps, partnerId, actor);
  const result = await newestFirst(deps.database.db, stores, page, eq(stores.partnerId, partnerId));
  return { items: result.items.map(toStoreView), nextCursor: result.nextCursor };
}

/** A store as the caller may see it: under another partner, or to another partner's key, it does not exist. */
async function findStoreRow(deps: Deps, partnerId: string, storeId: string, actor?: Principal): Promise<StoreRow> {
  await findPartnerRow(deps, partnerId, actor);
  const [row] = await deps.database.db
    .select()
    .from(stores)
    .where(and(eq(stores.id, storeId), eq(stores.partnerId, partnerId)));
  if (!row) throw new AppError("not_found", `No store ${storeId} at partner ${partnerId}.`);
  return row;
}

export async function getStore(deps: Deps, actor: Principal, partnerId: string, storeId: string) {
  return toStoreView(await findStoreRow(deps, partnerId, storeId, actor));
}

/** The columns a patch can change; they bear their API names. */
const patchableFields = ["name", "address", "latitude", "longitude", "status"] as const;

export async function updateStore(deps: Deps, actor: Principal, partnerId: string, storeId: string, patch: StorePatch) {
  const current = await findStoreRow(deps, partnerId, storeId);
  const wanted: Partial<Pick<StoreRow, (typeof patchableFields)[number]>> = {};
  for (const key of patchableFields) {
    if (patch[key] !== undefined) Object.assign(wanted, { [key]: patch[key] });
  }
  const changed = patchableFields.filter((key) => key in wanted && wanted[key] !== current[key]);
  if (changed.length === 0) return toStoreView(current);
  await deps.database.atomic([
    deps.database.db.update(stores).set({ ...wanted, updatedAt: deps.clock() }).where(eq(stores.id, storeId)),
    auditStatement(deps, actor, "store.update", { type: "store", id: storeId }, `changed ${changed.join(", ")}`),
  ]);
  return toStoreView(await findStoreRow(deps, partnerId, storeId));
}

/**
 * The store a purchase names, if it is one of the partner's stores and open. Anything else is a
 * field error on `storeId` — another partner's store reads as one that does not exist.
 * On the purchase path, so prepared once.
 */
export async function activeStoreOf(deps: Deps, partnerId: string, storeId: string): Promise<StoreRow> {
  const query = prepared(deps.database.db, "stores.ofPartner", (db) =>
    db
      .select()
      .from(stores)
      .where(and(eq(stores.id, sql.placeholder("storeId")), eq(stores.partnerId, sql.placeholder("partnerId"))))
      .prepare(),
  );
  const row = await query.get({ storeId, partnerId });
  if (!row) throw invalidField("storeId", "No such store at this partner", `Partner ${partnerId} has no store ${storeId}.`);
  if (row.status !== "active") throw invalidField("storeId", "This store is closed", `Store ${storeId} is closed and takes no new purchases.`);
  return row;
}

function toStoreView(row: StoreRow) {
  return {
    id: row.id,
    partnerId: row.partnerId,
    code: row.code,
    name: row.name,
    address: row.address,
    latitude: row.latitude,
    longitude: row.longitude,
    status: row.status,
    createdAt: isoTime(row.createdAt),
    updatedAt: isoTime(row.updatedAt),
  };
}
