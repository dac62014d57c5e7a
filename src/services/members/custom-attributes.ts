/**
 * Typed custom member attributes: an admin declares a key with its type (text, number, boolean, or
 * an enum with its allowed values); members' values are checked against the declaration, and
 * segments compare them as `custom.<key>`.
 */
import { asc, eq, sql } from "drizzle-orm";
import type { Statement } from "../../../db/database.ts";
import { customAttributeDefinitions, memberAttributes } from "../../../db/schema.ts";
import type { Deps } from "../../deps.ts";
import { MAX_TEXT_VALUE, type CustomAttribute, type CustomAttributeType } from "../../domain/segments.ts";
import { AppError, invalidField, type FieldError } from "../../errors.ts";
import { auditStatement } from "../../store/audit.ts";
import { findMemberRow } from "./members.ts";
import type { Principal } from "../../domain/principal.ts";
import { isoTime } from "../../lib/time.ts";

type DefinitionRow = typeof customAttributeDefinitions.$inferSelect;
export type AttributeValue = string | number | boolean;

export interface CustomAttributeView {
  key: string;
  type: CustomAttributeType;
  values: string[] | null;
  description: string | null;
  createdAt: string;
  updatedAt: string;
}

function view(row: DefinitionRow): CustomAttributeView {
  return {
    key: row.key,
    type: row.type,
    values: row.allowedValues ?? null,
    description: row.description,
    createdAt: isoTime(row.createdAt),
    updatedAt: isoTime(row.updatedAt),
  };
}

export async function listCustomAttributes(deps: Deps): Promise<CustomAttributeView[]> {
  const rows = await deps.database.db.select().from(customAttributeDefinitions).orderBy(asc(customAttributeDefinitions.key));
  return rows.map(view);
}

/** Every declaration by key, as the segment rules see them. */
export async function customAttributeCatalog(deps: Deps): Promise<Map<string, CustomAttribute>> {
  const rows = await deps.database.db.select().from(customAttributeDefinitions);
  return new Map(rows.map((row) => [row.key, { key: row.key, type: row.type, values: row.allowedValues ?? undefined }]));
}

export interface DeclareInput {
  type: CustomAttributeType;
  values?: string[] | undefined;
  description?: string | null | undefined;
}

/**
 * Declares a key or changes its declaration. A key keeps its type for good (members' values and
 * segment rules depend on it); an enum may gain values, and lose those no member holds.
 */
export async function declareCustomAttribute(deps: Deps, actor: Principal, key: string, input: DeclareInput): Promise<CustomAttributeView> {
  if (input.type === "enum" && !input.values) throw invalidField("values", "Required for an enum: its allowed values");
  if (input.type !== "enum" && input.values) throw invalidField("values", "Only an enum has allowed values");
  const { db } = deps.database;
  const [current] = await db.select().from(customAttributeDefinitions).where(eq(customAttributeDefinitions.key, key));
  if (current && current.type !== input.type) {
    throw invalidField("type", `${key} is declared as ${current.type}; a key keeps its type (declare a new key)`, "A custom attribute's type cannot change.");
  }
  if (current?.allowedValues && input.values) {
    const dropped = current.allowedValues.filter((v) => !input.values!.includes(v));
    if (dropped.length) {
      const held = (await db.all(sql`SELECT value_text AS value, COUNT(*) AS members FROM member_attributes WHERE key = ${key} GROUP BY value_text`)) as Array<{ value: string; members: number }>;
      const inUse = held.filter((h) => dropped.includes(h.value));
      if (inUse.length) {
        throw invalidField("values", `Still held: ${inUse.map((h) => `${h.value} (${h.members} members)`).join(", ")}`, "An enum keeps the values members hold.");
      }
    }
  }
  const now = deps.clock();
  const row: DefinitionRow = {
    key,
    type: input.type,
    allowedValues: input.values ?? null,
    description: input.description === undefined ? (current?.description ?? null) : input.description,
    createdAt: current?.createdAt ?? now,
    updatedAt: now,
  };
  await deps.database.atomic([
    db
      .insert(customAttributeDefinitions)
      .values(row)
      .onConflictDoUpdate({ target: customAttributeDefinitions.key, set: { allowedValues: row.allowedValues, description: row.description, updatedAt: now } }),
    auditStatement(deps, actor, current ? "custom_attribute.update" : "custom_attribute.declare", { type: "custom_attribute", id: key }),
  ]);
  return view(row);
}

/** The stored columns of a value, or the reason it does not fit the declaration. */
function storedValue(declared: CustomAttribute, value: unknown): { text: string | null; number: number | null } | string {
  switch (declared.type) {
    case "text":
      if (typeof value !== "string" || value.trim().length === 0) return "Expected non-empty text";
      if (value.length > MAX_TEXT_VALUE) return `At most ${MAX_TEXT_VALUE} characters`;
      return { text: value.trim(), number: null };
    case "enum":
      if (typeof value !== "string" || !declared.values?.includes(value)) return `Expected one of ${declared.values?.join(", ")}`;
      return { text: value, number: null };
    case "number":
      if (typeof value !== "number" || !Number.isFinite(value) || Math.abs(value) > 1e15) return "Expected a number (at most 10^15 either way)";
      return { text: null, number: value };
    case "boolean":
      if (typeof value !== "boolean") return "Expected true or false";
      return { text: null, number: value ? 1 : 0 };
  }
}

export async function memberAttributesOf(deps: Deps, memberId: string): Promise<Record<string, AttributeValue>> {
  await findMemberRow(deps, memberId);
  const rows = await deps.database.db
    .select({ key: memberAttributes.key, text: memberAttributes.valueText, number: memberAttributes.valueNumber, type: customAttributeDefinitions.type })
    .from(memberAttributes)
    .innerJoin(customAttributeDefinitions, eq(customAttributeDefinitions.key, memberAttributes.key))
    .where(eq(memberAttributes.memberId, memberId))
    .orderBy(asc(memberAttributes.key));
  return Object.fromEntries(rows.map((r) => [r.key, r.type === "boolean" ? r.number === 1 : r.type === "number" ? r.number! : r.text!]));
}

/** Sets the given keys (null removes one); keys not named are left as they are. */
export async function setMemberAttributes(deps: Deps, actor: Principal, memberId: string, values: Record<string, AttributeValue | null>) {
  await findMemberRow(deps, memberId);
  const catalog = await customAttributeCatalog(deps);
  const errors: FieldError[] = [];
  const statements: Statement[] = [];
  const now = deps.clock();
  const { db } = deps.database;
  for (const [key, value] of Object.entries(values)) {
    const field = `attributes.${key}`;
    const declared = catalog.get(key);
    if (!declared) {
      errors.push({ field, message: `No custom attribute ${key} is declared (PUT /v1/custom-attributes/${key})` });
      continue;
    }
    if (value === null) {
      statements.push(db.delete(memberAttributes).where(sql`${memberAttributes.memberId} = ${memberId} AND ${memberAttributes.key} = ${key}`));
      continue;
    }
    const stored = storedValue(declared, value);
    if (typeof stored === "string") {
      errors.push({ field, message: stored });
      continue;
    }
    statements.push(
      db
        .insert(memberAttributes)
        .values({ memberId, key, valueText: stored.text, valueNumber: stored.number, updatedAt: now })
        .onConflictDoUpdate({ target: [memberAttributes.memberId, memberAttributes.key], set: { valueText: stored.text, valueNumber: stored.number, updatedAt: now } }),
    );
  }
  if (errors.length) throw new AppError("validation_failed", "Some attributes do not fit their declarations.", { errors });
  await deps.database.atomic([...statements, auditStatement(deps, actor, "member.attributes.update", { type: "member", id: memberId })]);
  return { memberId, attributes: await memberAttributesOf(deps, memberId) };
}
