/**
 * Segments: preview a rule, save it, and keep its membership materialised. A rule compiles
 * (src/domain/segments.ts) to one WHERE clause over members LEFT JOIN member_profiles,
 * member_scores and member_balances, rendered here with every value bound as a parameter.
 * Entering and leaving are recorded as interactions (segment_enter / segment_leave), written in
 * chunks with the membership rows they describe.
 */
import { and, desc, eq, inArray, lt, sql, type SQL } from "drizzle-orm";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import type { Statement } from "../../db/database.ts";
import { members, partners, segmentMembers, segments } from "../../db/schema.ts";
import type { Deps } from "../deps.ts";
import { displayNameOf } from "../domain/names.ts";
import {
  compileRule,
  findCycle,
  refreshOrder,
  ruleReferences,
  rulePath,
  segmentDependencies,
  validateRule,
  type CompileContext,
  type Condition,
  type Operand,
  type Rule,
  type RuleIssue,
  type SegmentColumn,
} from "../domain/segments.ts";
import { AppError } from "../errors.ts";
import { decodeCursor, paginate } from "../lib/cursor.ts";
import { newId } from "../lib/ids.ts";
import { auditStatement } from "./audit.ts";
import { customAttributeCatalog } from "./custom-attributes.ts";
import { interactionStatement } from "./interactions.ts";
import type { Principal } from "./principal.ts";
import { currentProgram } from "./program.ts";

/** Members in a preview's sample. */
export const SAMPLE_SIZE = 20;
/** Members per atomic unit when membership changes: 2 statements each. */
const CHUNK = 200;
/** D1 binds at most 100 parameters per statement; the membership queries add 3 to the rule's. */
export const MAX_RULE_PARAMETERS = 90;
/** A refresh that crashed frees its segment after this long. */
const LEASE_MS = 15 * 60_000;

type SegmentRow = typeof segments.$inferSelect;

export interface SegmentView {
  id: string;
  name: string;
  description: string | null;
  rule: Rule;
  memberCount: number;
  refreshedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function segmentView(row: SegmentRow): SegmentView {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    rule: row.rule as Rule,
    memberCount: row.memberCount,
    refreshedAt: row.refreshedAt === null ? null : iso(row.refreshedAt),
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}

// ---------------------------------------------------------------------------------------------
// Rendering the abstract condition. Table aliases: m members, p member_profiles, s member_scores,
// b member_balances; the names below come from closed unions, never from the request.

const FROM = sql.raw(
  "members m LEFT JOIN member_profiles p ON p.member_id = m.id LEFT JOIN member_scores s ON s.member_id = m.id LEFT JOIN member_balances b ON b.member_id = m.id",
);

const COLUMNS: Record<SegmentColumn, SQL> = {
  "members.birth_date": sql.raw("m.birth_date"),
  "members.gender": sql.raw("m.gender"),
  "members.region": sql.raw("m.region"),
  "members.tier": sql.raw("m.tier"),
  // Counts and balances read 0 for a member without the row (never bought, no balance row yet).
  "member_balances.available": sql.raw("COALESCE(b.available, 0)"),
  "member_profiles.last_purchase_at": sql.raw("p.last_purchase_at"),
  "member_profiles.purchase_count": sql.raw("COALESCE(p.purchase_count, 0)"),
  "member_profiles.monetary_minor": sql.raw("COALESCE(p.monetary_minor, 0)"),
  "member_scores.r": sql.raw("s.r"),
  "member_scores.f": sql.raw("s.f"),
  "member_scores.m": sql.raw("s.m"),
  "member_scores.rfm_segment": sql.raw("s.rfm_segment"),
  "member_scores.clv_minor": sql.raw("s.clv_minor"),
  "member_scores.p_alive": sql.raw("s.p_alive"),
  "member_scores.lifecycle": sql.raw("s.lifecycle"),
};

function operandSql(operand: Operand): SQL {
  switch (operand.kind) {
    case "column":
      return COLUMNS[operand.column];
    case "custom":
      return operand.stored === "text"
        ? sql`(SELECT a.value_text FROM member_attributes a WHERE a.member_id = m.id AND a.key = ${operand.key})`
        : sql`(SELECT a.value_number FROM member_attributes a WHERE a.member_id = m.id AND a.key = ${operand.key})`;
    case "purchasesSince":
      // One range of interactions_member_time per member. The unary + keeps the planner off
      // interactions_kind_time, which (unanalysed) it preferred: every purchase in the window, per member.
      return operand.measure === "count"
        ? sql`(SELECT COUNT(*) FROM interactions i WHERE i.member_id = m.id AND +i.kind = 'purchase' AND i.occurred_at >= ${operand.sinceMs})`
        : sql`(SELECT COALESCE(SUM(i.amount_minor), 0) FROM interactions i WHERE i.member_id = m.id AND +i.kind = 'purchase' AND i.occurred_at >= ${operand.sinceMs})`;
    case "consent":
      // The latest record per purpose and channel wins; never asked is no consent.
      return sql`COALESCE((SELECT c.granted FROM consents c WHERE c.member_id = m.id AND c.purpose = 'marketing' AND c.channel = ${operand.channel}
                           ORDER BY c.recorded_at DESC, c.id DESC LIMIT 1), 0)`;
  }
}

const values = (list: Array<string | number>) => sql.join(list.map((v) => sql`${v}`), sql`, `);

/** The condition as SQL over the aliases above; every value is a bound parameter. */
export function conditionSql(condition: Condition): SQL {
  switch (condition.kind) {
    case "all":
      return sql`(${sql.join(condition.items.map(conditionSql), sql` AND `)})`;
    case "any":
      return sql`(${sql.join(condition.items.map(conditionSql), sql` OR `)})`;
    case "not":
      // NULL (a comparison on a missing value) counts as false before it is negated.
      return sql`NOT COALESCE((${conditionSql(condition.item)}), 0)`;
    case "compare":
      return sql`${operandSql(condition.operand)} ${sql.raw(condition.op)} ${condition.value}`;
    case "oneOf":
      return sql`${operandSql(condition.operand)} IN (${values(condition.values)})`;
    case "present":
      return sql`${operandSql(condition.operand)} IS NOT NULL`;
    case "affinity":
      return sql`EXISTS (SELECT 1 FROM member_affinities f WHERE f.member_id = m.id AND f.subject IN (${values(condition.subjects)}))`;
    case "inSegment":
      return sql`EXISTS (SELECT 1 FROM segment_members r WHERE r.member_id = m.id AND r.segment_id IN (${values(condition.segmentIds)}))`;
    case "constant":
      return sql.raw(condition.value ? "1" : "0");
  }
}

const dialect = new SQLiteAsyncDialect();

// ---------------------------------------------------------------------------------------------
// Checking a rule against the database: declarations, tiers, partners, segments, cycles, size.

async function contextAt(deps: Deps, nowMs: number): Promise<CompileContext> {
  const { program } = await currentProgram(deps);
  return { nowMs, utcOffsetMinutes: program.utcOffsetMinutes, tiers: program.tiers.map((t) => t.code), customAttributes: await customAttributeCatalog(deps) };
}

function refuse(issues: RuleIssue[]): never {
  throw new AppError("validation_failed", "The rule is not valid.", { errors: issues.map((i) => ({ field: rulePath(i.path), message: i.message })) });
}

/**
 * The rule's WHERE clause at `nowMs` once every check that needs the database passes: custom
 * attributes' declared types, tier codes, partners and segments that exist, no cycle through
 * `self` (the segment being changed), and few enough bound values for D1.
 */
async function checkedWhere(deps: Deps, rule: Rule, self: string | null, nowMs: number): Promise<SQL> {
  const ctx = await contextAt(deps, nowMs);
  const issues = validateRule(rule, ctx);
  if (issues.length) refuse(issues);

  const references = ruleReferences(rule);
  const partnerIds = [...new Set(references.filter((r) => r.kind === "partner").map((r) => r.id))];
  const knownPartners = new Set(
    partnerIds.length ? (await deps.database.db.select({ id: partners.id }).from(partners).where(inArray(partners.id, partnerIds))).map((p) => p.id) : [],
  );
  const stored = references.some((r) => r.kind === "segment") ? await deps.database.db.select({ id: segments.id, rule: segments.rule }).from(segments) : [];
  const dependencies = new Map(stored.map((s) => [s.id, segmentDependencies(s.rule as Rule)]));
  for (const reference of references) {
    if (reference.kind === "partner" && !knownPartners.has(reference.id)) issues.push({ path: reference.path, message: `No partner ${reference.id}` });
    if (reference.kind !== "segment") continue;
    if (!dependencies.has(reference.id)) {
      issues.push({ path: reference.path, message: `No segment ${reference.id}` });
      continue;
    }
    const cycle = self === null ? null : findCycle(self, [reference.id], (id) => dependencies.get(id) ?? []);
    if (cycle) issues.push({ path: reference.path, message: `A cycle: ${cycle.join(" → ")} (a segment cannot contain itself, directly or through others)` });
  }
  if (issues.length) refuse(issues);

  const where = sql`m.status = 'active' AND ${conditionSql(compileRule(rule, ctx))}`;
  const bound = dialect.sqlToQuery(where).params.length;
  if (bound > MAX_RULE_PARAMETERS) {
    refuse([{ path: [], message: `This rule binds ${bound} values into one SQL statement; at most ${MAX_RULE_PARAMETERS} (D1 binds at most 100): use fewer values or split it into segments joined with inSegment` }]);
  }
  return where;
}

/** A stored rule's WHERE clause: checked when saved, so only compiled (against today's catalog). */
async function storedWhere(deps: Deps, rule: Rule, nowMs: number): Promise<SQL> {
  const ctx = await contextAt(deps, nowMs);
  return sql`m.status = 'active' AND ${conditionSql(compileRule(rule, ctx))}`;
}

// ---------------------------------------------------------------------------------------------
// Preview, create, read.

export interface SampleMember {
  memberId: string;
  displayName: string;
  tier: string;
}

/**
 * How many active members the rule matches now, and the newest 20 of them: ids, masked names and
 * tiers, no contact details. One query: the count is a window over the same rows.
 */
export async function previewSegment(deps: Deps, rule: Rule) {
  const now = deps.clock();
  const where = await checkedWhere(deps, rule, null, now);
  const rows = (await deps.database.db.all(sql`
    SELECT m.id AS memberId, m.name AS name, m.preferred_name AS preferredName, m.tier AS tier, COUNT(*) OVER () AS total
    FROM ${FROM} WHERE ${where} ORDER BY m.id DESC LIMIT ${SAMPLE_SIZE}`)) as Array<{ memberId: string; name: string; preferredName: string | null; tier: string; total: number }>;
  return {
    count: rows[0]?.total ?? 0,
    sample: rows.map((r): SampleMember => ({ memberId: r.memberId, displayName: displayNameOf(r.name, r.preferredName), tier: r.tier })),
    evaluatedAt: iso(now),
  };
}

export interface SegmentInput {
  name: string;
  description?: string | null | undefined;
  rule: Rule;
}

export async function findSegment(deps: Deps, segmentId: string): Promise<SegmentRow> {
  const [row] = await deps.database.db.select().from(segments).where(eq(segments.id, segmentId));
  if (!row) throw new AppError("not_found", `No segment ${segmentId}.`);
  return row;
}

/** Saves the segment and materialises its membership (each member entering is an interaction). */
export async function createSegment(deps: Deps, actor: Principal, input: SegmentInput): Promise<SegmentView> {
  const now = deps.clock();
  const where = await checkedWhere(deps, input.rule, null, now);
  const id = newId("segment", now);
  const leaseUntil = now + LEASE_MS;
  const { db } = deps.database;
  // Created holding the refresh lease, so nothing refreshes it before its first membership is in.
  await deps.database.atomic([
    db.insert(segments).values({
      id,
      name: input.name,
      description: input.description ?? null,
      rule: input.rule,
      refreshLeaseUntil: leaseUntil,
      createdBy: actor.role === "admin" || actor.role === "marketer" ? actor.staffId : actor.role,
      createdAt: now,
      updatedAt: now,
    }),
    auditStatement(deps, actor, "segment.create", { type: "segment", id }),
  ]);
  try {
    await syncMembership(deps, id, where, now);
  } finally {
    await releaseLease(deps, id, leaseUntil);
  }
  return segmentView(await findSegment(deps, id));
}

export async function listSegments(deps: Deps, page: { cursor?: string | undefined; limit: number }) {
  const rows = await deps.database.db
    .select()
    .from(segments)
    .where(page.cursor ? lt(segments.id, decodeCursor(page.cursor)) : undefined)
    .orderBy(desc(segments.id))
    .limit(page.limit + 1);
  const result = paginate(rows, page.limit, (r) => r.id);
  return { items: result.items.map(segmentView), nextCursor: result.nextCursor };
}

/** The members as last refreshed, newest members first. */
export async function listSegmentMembers(deps: Deps, segmentId: string, page: { cursor?: string | undefined; limit: number }) {
  await findSegment(deps, segmentId);
  const rows = await deps.database.db
    .select({ memberId: segmentMembers.memberId, enteredAt: segmentMembers.enteredAt, name: members.name, preferredName: members.preferredName, tier: members.tier })
    .from(segmentMembers)
    .innerJoin(members, eq(members.id, segmentMembers.memberId))
    .where(and(eq(segmentMembers.segmentId, segmentId), page.cursor ? lt(segmentMembers.memberId, decodeCursor(page.cursor)) : undefined))
    .orderBy(desc(segmentMembers.memberId))
    .limit(page.limit + 1);
  const result = paginate(rows, page.limit, (r) => r.memberId);
  return {
    items: result.items.map((r) => ({ memberId: r.memberId, displayName: displayNameOf(r.name, r.preferredName), tier: r.tier, enteredAt: iso(r.enteredAt) })),
    nextCursor: result.nextCursor,
  };
}

/** Renames, redescribes, or changes the rule (then refreshes the membership at once). */
export async function updateSegment(deps: Deps, actor: Principal, segmentId: string, patch: Partial<SegmentInput>): Promise<SegmentView> {
  const row = await findSegment(deps, segmentId);
  const { db } = deps.database;
  const changes = {
    ...(patch.name !== undefined && { name: patch.name }),
    ...(patch.description !== undefined && { description: patch.description }),
    updatedAt: deps.clock(),
  };
  const audit = auditStatement(deps, actor, "segment.update", { type: "segment", id: row.id });
  if (patch.rule === undefined) {
    await deps.database.atomic([db.update(segments).set(changes).where(eq(segments.id, row.id)), audit]);
    return segmentView(await findSegment(deps, row.id));
  }
  const rule = patch.rule;
  await withLease(deps, row.id, async (now) => {
    const where = await checkedWhere(deps, rule, row.id, now);
    await deps.database.atomic([db.update(segments).set({ ...changes, rule }).where(eq(segments.id, row.id)), audit]);
    await syncMembership(deps, row.id, where, now);
  });
  return segmentView(await findSegment(deps, row.id));
}

// ---------------------------------------------------------------------------------------------
// Refresh.

export interface RefreshResult {
  segmentId: string;
  entered: number;
  left: number;
  memberCount: number;
  refreshedAt: string;
}

async function releaseLease(deps: Deps, segmentId: string, leaseUntil: number) {
  await deps.database.atomic([sql`UPDATE segments SET refresh_lease_until = NULL WHERE id = ${segmentId} AND refresh_lease_until = ${leaseUntil}`]);
}

/**
 * Runs `work` holding the segment's refresh lease: two refreshes of one segment never interleave,
 * so nobody's entry or exit is recorded twice. The claim is a conditional UPDATE; losing it is 409.
 */
async function withLease<T>(deps: Deps, segmentId: string, work: (now: number) => Promise<T>): Promise<T> {
  const now = deps.clock();
  const leaseUntil = now + LEASE_MS;
  const [claimed] = await deps.database.atomic([
    sql`UPDATE segments SET refresh_lease_until = ${leaseUntil} WHERE id = ${segmentId} AND (refresh_lease_until IS NULL OR refresh_lease_until <= ${now})`,
  ]);
  if (!claimed) throw new AppError("concurrent_update", "This segment is being refreshed or changed right now; try again when that finishes.");
  try {
    return await work(now);
  } finally {
    await releaseLease(deps, segmentId, leaseUntil);
  }
}

/**
 * Brings the stored membership in line with `where`: members it matches and the table lacks enter,
 * members the table holds that it no longer matches leave. Both passes walk member ids in order, a
 * chunk at a time; each chunk's rows, interactions and count change are one atomic unit, so a
 * crash leaves a consistent prefix that the next refresh completes. Running it again changes nothing.
 */
async function syncMembership(deps: Deps, segmentId: string, where: SQL, now: number): Promise<{ entered: number; left: number }> {
  const { db } = deps.database;
  const record = (memberId: string, kind: "segment_enter" | "segment_leave") =>
    interactionStatement(deps, { memberId, kind, channel: "system", reference: segmentId, occurredAt: now });

  let entered = 0;
  for (let after = ""; ; ) {
    const rows = (await db.all(sql`
      SELECT m.id AS id FROM ${FROM}
      WHERE m.id > ${after} AND ${where}
        AND NOT EXISTS (SELECT 1 FROM segment_members x WHERE x.segment_id = ${segmentId} AND x.member_id = m.id)
      ORDER BY m.id LIMIT ${CHUNK}`)) as Array<{ id: string }>;
    if (rows.length === 0) break;
    const statements: Statement[] = rows.flatMap((r) => [
      sql`INSERT INTO segment_members (segment_id, member_id, entered_at) VALUES (${segmentId}, ${r.id}, ${now})`,
      record(r.id, "segment_enter"),
    ]);
    statements.push(sql`UPDATE segments SET member_count = member_count + ${rows.length} WHERE id = ${segmentId}`);
    await deps.database.atomic(statements);
    entered += rows.length;
    after = rows[rows.length - 1]!.id;
    if (rows.length < CHUNK) break;
  }

  let left = 0;
  for (let after = ""; ; ) {
    const rows = (await db.all(sql`
      SELECT x.member_id AS id FROM segment_members x
      WHERE x.segment_id = ${segmentId} AND x.member_id > ${after}
        AND NOT EXISTS (SELECT 1 FROM ${FROM} WHERE m.id = x.member_id AND ${where})
      ORDER BY x.member_id LIMIT ${CHUNK}`)) as Array<{ id: string }>;
    if (rows.length === 0) break;
    const statements: Statement[] = rows.flatMap((r) => [
      sql`DELETE FROM segment_members WHERE segment_id = ${segmentId} AND member_id = ${r.id}`,
      record(r.id, "segment_leave"),
    ]);
    statements.push(sql`UPDATE segments SET member_count = member_count - ${rows.length} WHERE id = ${segmentId}`);
    await deps.database.atomic(statements);
    left += rows.length;
    after = rows[rows.length - 1]!.id;
    if (rows.length < CHUNK) break;
  }

  await deps.database.atomic([sql`UPDATE segments SET refreshed_at = ${now} WHERE id = ${segmentId}`]);
  return { entered, left };
}

/** Recomputes one segment's membership: new members enter, leavers leave; idempotent. */
export async function refreshSegment(deps: Deps, segmentId: string): Promise<RefreshResult> {
  await findSegment(deps, segmentId);
  const { entered, left } = await withLease(deps, segmentId, async (now) => {
    // Read under the lease: a rule changed just before is the one applied.
    const row = await findSegment(deps, segmentId);
    return syncMembership(deps, segmentId, await storedWhere(deps, row.rule as Rule, now), now);
  });
  const row = await findSegment(deps, segmentId);
  return { segmentId, entered, left, memberCount: row.memberCount, refreshedAt: iso(row.refreshedAt!) };
}

/**
 * Refreshes every segment, each after the segments its rule refers to, so one pass leaves all of
 * them consistent. A segment another caller is refreshing at that moment is skipped, not waited for.
 */
export async function refreshSegments(deps: Deps): Promise<{ refreshed: RefreshResult[]; skipped: string[] }> {
  const rows = await deps.database.db.select({ id: segments.id, rule: segments.rule }).from(segments);
  const order = refreshOrder(rows.map((r) => ({ id: r.id, dependencies: segmentDependencies(r.rule as Rule) })));
  const refreshed: RefreshResult[] = [];
  const skipped: string[] = [];
  for (const segmentId of order) {
    try {
      refreshed.push(await refreshSegment(deps, segmentId));
    } catch (error) {
      if (error instanceof AppError && error.code === "concurrent_update") skipped.push(segmentId);
      else throw error;
    }
  }
  return { refreshed, skipped };
}
