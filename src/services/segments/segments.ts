/**
 * Segments: preview a rule, save it, and keep its membership materialised. A rule compiles
 * (src/domain/segments.ts) to one WHERE clause over members LEFT JOIN member_profiles,
 * member_scores and member_balances, rendered here with every value bound as a parameter.
 * Entering and leaving are recorded as interactions (segment_enter / segment_leave), written in
 * chunks with the membership rows they describe.
 */
import { and, desc, eq, inArray, lt, sql, type SQL } from "drizzle-orm";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import type { Statement } from "../../../db/database.ts";
import { members, partners, segmentMembers, segments } from "../../../db/schema.ts";
import type { Deps } from "../../deps.ts";
import { displayNameOf } from "../../domain/names.ts";
import { newestFirst } from "../../store/page.ts";
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
} from "../../domain/segments.ts";
import { AppError } from "../../errors.ts";
import { decodeCursor, paginate } from "../../lib/cursor.ts";
import { newId } from "../../lib/ids.ts";
import { isoTime } from "../../lib/time.ts";
import { auditStatement } from "../../store/audit.ts";
import { customAttributeCatalog } from "../members/custom-attributes.ts";
import { memberInteractionsStatement } from "../../store/interactions.ts";
import type { Principal } from "../../domain/principal.ts";
import { currentProgram } from "../program/program.ts";

/** Members in a preview's sample. */
export const SAMPLE_SIZE = 20;
/**
 * Members entering or leaving per atomic unit (at most five statements, whatever their number), and
 * ids per page of a read on D1. A unit's interactions are one JSON parameter of about 67 bytes a
 * member: 1,000 stay well within D1's 100 KB a statement. On better-sqlite3 larger units write no
 * faster (285,630 members in 5.1–5.3 s with 1,000 or 5,000, bench/segments.ts) and hold the writer
 * longer.
 */
export const UNIT_SIZE = 1_000;
/** D1 binds at most 100 parameters per statement; the membership queries add 2 to the rule's (a page's cursor and size). */
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


export function segmentView(row: SegmentRow): SegmentView {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    rule: row.rule as Rule,
    memberCount: row.memberCount,
    refreshedAt: row.refreshedAt === null ? null : isoTime(row.refreshedAt),
    createdAt: isoTime(row.createdAt),
    updatedAt: isoTime(row.updatedAt),
  };
}

// ---------------------------------------------------------------------------------------------
// Rendering the abstract condition. Table aliases: m members, p member_profiles, s member_scores,
// b member_balances; the names below come from closed unions, never from the request.

/** A member's row of one of these may be missing: every column of it then reads NULL. */
type Joined = "p" | "s";

/** Each column's SQL and, for a column that is NULL without its row, the table it needs a row of. */
const COLUMNS: Record<SegmentColumn, { sql: SQL; needs?: Joined }> = {
  "members.birth_date": { sql: sql.raw("m.birth_date") },
  "members.gender": { sql: sql.raw("m.gender") },
  "members.region": { sql: sql.raw("m.region") },
  "members.tier": { sql: sql.raw("m.tier") },
  // Counts and balances read 0 for a member without the row (never bought, no balance row yet).
  "member_balances.available": { sql: sql.raw("COALESCE(b.available, 0)") },
  "member_profiles.last_purchase_at": { sql: sql.raw("p.last_purchase_at"), needs: "p" },
  "member_profiles.purchase_count": { sql: sql.raw("COALESCE(p.purchase_count, 0)") },
  "member_profiles.monetary_minor": { sql: sql.raw("COALESCE(p.monetary_minor, 0)") },
  "member_scores.r": { sql: sql.raw("s.r"), needs: "s" },
  "member_scores.f": { sql: sql.raw("s.f"), needs: "s" },
  "member_scores.m": { sql: sql.raw("s.m"), needs: "s" },
  "member_scores.rfm_segment": { sql: sql.raw("s.rfm_segment"), needs: "s" },
  "member_scores.clv_minor": { sql: sql.raw("s.clv_minor"), needs: "s" },
  "member_scores.p_alive": { sql: sql.raw("s.p_alive"), needs: "s" },
  "member_scores.lifecycle": { sql: sql.raw("s.lifecycle"), needs: "s" },
};

/**
 * A table every member the condition matches has a row of: one whose column a top-level
 * comparison reads (NULL without the row, and a comparison on NULL is false).
 */
function neededRow(condition: Condition): Joined | null {
  switch (condition.kind) {
    case "all":
      return condition.items.map(neededRow).find((table) => table !== null) ?? null;
    case "compare":
    case "oneOf":
    case "present":
      return condition.operand.kind === "column" ? (COLUMNS[condition.operand.column].needs ?? null) : null;
    default:
      return null;
  }
}

/**
 * The rows a rule is judged on: each member with their profile, scores and balance, walked from
 * members. A rule that needs a row of scores or profiles walks that table instead (CROSS JOIN fixes
 * SQLite's join order): a scan of it, probing members only for the rows that pass, instead of a
 * probe of it for every member. Measured on bench/recompute.ts, Champions: 0.6 s against 3.7 s.
 * `id` is the member id in the order the walk can page by.
 */
const SOURCES: Record<Joined | "m", { from: SQL; id: SQL }> = {
  m: {
    from: sql.raw("members m LEFT JOIN member_profiles p ON p.member_id = m.id LEFT JOIN member_scores s ON s.member_id = m.id LEFT JOIN member_balances b ON b.member_id = m.id"),
    id: sql.raw("m.id"),
  },
  s: {
    from: sql.raw("member_scores s CROSS JOIN members m ON m.id = s.member_id LEFT JOIN member_profiles p ON p.member_id = m.id LEFT JOIN member_balances b ON b.member_id = m.id"),
    id: sql.raw("s.member_id"),
  },
  p: {
    from: sql.raw("member_profiles p CROSS JOIN members m ON m.id = p.member_id LEFT JOIN member_scores s ON s.member_id = m.id LEFT JOIN member_balances b ON b.member_id = m.id"),
    id: sql.raw("p.member_id"),
  },
};

/** A compiled rule as the parts of a query: the rows it walks, their member id, and the WHERE clause. */
interface RuleQuery {
  from: SQL;
  id: SQL;
  where: SQL;
}

function ruleQuery(condition: Condition): RuleQuery {
  return { ...SOURCES[neededRow(condition) ?? "m"], where: sql`m.status = 'active' AND ${conditionSql(condition)}` };
}

function operandSql(operand: Operand): SQL {
  switch (operand.kind) {
    case "column":
      return COLUMNS[operand.column].sql;
    case "custom":
      return operand.stored === "text"
        ? sql`(SELECT a.value_text FROM member_attributes a WHERE a.member_id = m.id AND a.key = ${operand.key})`
        : sql`(SELECT a.value_number FROM member_attributes a WHERE a.member_id = m.id AND a.key = ${operand.key})`;
    case "purchasesSince":
      // One range of interactions_member_kind per member, within the index: the member's purchases
      // in the window, not their other interactions (segment entries pile up with every refresh).
      return operand.measure === "count"
        ? sql`(SELECT COUNT(*) FROM interactions i WHERE i.member_id = m.id AND i.kind = 'purchase' AND i.occurred_at >= ${operand.sinceMs})`
        : sql`(SELECT COALESCE(SUM(i.amount_minor), 0) FROM interactions i WHERE i.member_id = m.id AND i.kind = 'purchase' AND i.occurred_at >= ${operand.sinceMs})`;
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
 * The rule's query at `nowMs` once every check that needs the database passes: custom attributes'
 * declared types, tier codes, partners and segments that exist, no cycle through `self` (the
 * segment being changed), and few enough bound values for D1.
 */
async function checkedQuery(deps: Deps, rule: Rule, self: string | null, nowMs: number): Promise<RuleQuery> {
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

  const query = ruleQuery(compileRule(rule, ctx));
  const bound = dialect.sqlToQuery(query.where).params.length;
  if (bound > MAX_RULE_PARAMETERS) {
    refuse([{ path: [], message: `This rule binds ${bound} values into one SQL statement; at most ${MAX_RULE_PARAMETERS} (D1 binds at most 100): use fewer values or split it into segments joined with inSegment` }]);
  }
  return query;
}

/** A stored rule's query: checked when saved, so only compiled (against today's catalog). */
async function storedQuery(deps: Deps, rule: Rule, nowMs: number): Promise<RuleQuery> {
  return ruleQuery(compileRule(rule, await contextAt(deps, nowMs)));
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
  const { from, where } = await checkedQuery(deps, rule, null, now);
  const rows = (await deps.database.db.all(sql`
    SELECT m.id AS memberId, m.name AS name, m.preferred_name AS preferredName, m.tier AS tier, COUNT(*) OVER () AS total
    FROM ${from} WHERE ${where} ORDER BY m.id DESC LIMIT ${SAMPLE_SIZE}`)) as Array<{ memberId: string; name: string; preferredName: string | null; tier: string; total: number }>;
  return {
    count: rows[0]?.total ?? 0,
    sample: rows.map((r): SampleMember => ({ memberId: r.memberId, displayName: displayNameOf(r.name, r.preferredName), tier: r.tier })),
    evaluatedAt: isoTime(now),
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
  const query = await checkedQuery(deps, input.rule, null, now);
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
    await syncMembership(deps, id, query, now);
  } finally {
    await releaseLease(deps, id, leaseUntil);
  }
  return segmentView(await findSegment(deps, id));
}

export async function listSegments(deps: Deps, page: { cursor?: string | undefined; limit: number }) {
  const result = await newestFirst(deps.database.db, segments, page);
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
    items: result.items.map((r) => ({ memberId: r.memberId, displayName: displayNameOf(r.name, r.preferredName), tier: r.tier, enteredAt: isoTime(r.enteredAt) })),
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
    const query = await checkedQuery(deps, rule, row.id, now);
    await deps.database.atomic([db.update(segments).set({ ...changes, rule }).where(eq(segments.id, row.id)), audit]);
    await syncMembership(deps, row.id, query, now);
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

/** A page of a paged read: the ids after `after`, in order, at most `limit` of them. */
interface Page {
  after: string;
  limit: number;
}

/** `AND id > after ORDER BY id LIMIT n`, closing a paged read's WHERE clause; nothing for an unpaged one. */
const pageOf = (id: SQL, page: Page | null) => (page ? sql` AND ${id} > ${page.after} ORDER BY ${id} LIMIT ${page.limit}` : sql``);

/**
 * The member ids `select` finds, ascending, one at a time. D1 reads them a page at a time after a
 * cursor, so no result outgrows a Worker. better-sqlite3 reads them in one statement and sorts them
 * here, which leaves the planner free to scan in whatever order is cheapest: walking members in id
 * order probes the id index for each (2.6 s against 0.3 s for a million, bench/segments.ts).
 */
function ascendingIds(deps: Deps, select: (page: Page | null) => SQL) {
  const { db, driver } = deps.database;
  let ids: string[] = [];
  let next = 0;
  let more = true;
  return async (): Promise<string | undefined> => {
    if (next === ids.length && more) {
      const page = driver === "d1" ? { after: ids.at(-1) ?? "", limit: UNIT_SIZE } : null;
      // Member ids are ASCII, so JavaScript's order is SQLite's (BINARY).
      ids = ((await db.values(select(page))) as Array<[string]>).map(([id]) => id).sort();
      next = 0;
      more = page !== null && ids.length === page.limit;
    }
    return ids[next++];
  };
}

/**
 * Brings the stored membership in line with the rule: one ordered merge of the members it matches
 * with those the table holds, so a refresh costs one pass of the rule and one of the segment.
 * Members it matches and the table lacks enter; members the table holds that it no longer matches
 * leave. Changes are written UNIT_SIZE at a time in member id order, each unit (rows,
 * interactions, count) atomic, so a crash leaves the membership right up to some member id, and
 * member_count equal to the rows; the next refresh completes the rest. Running it again changes
 * nothing.
 */
async function syncMembership(deps: Deps, segmentId: string, rule: RuleQuery, now: number): Promise<{ entered: number; left: number }> {
  const matched = ascendingIds(deps, (page) => sql`SELECT ${rule.id} FROM ${rule.from} WHERE ${rule.where}${pageOf(rule.id, page)}`);
  const held = ascendingIds(deps, (page) => sql`SELECT member_id FROM segment_members WHERE segment_id = ${segmentId}${pageOf(sql`member_id`, page)}`);
  const record = (kind: "segment_enter" | "segment_leave", memberIds: string[]) =>
    memberInteractionsStatement(deps.clock(), memberIds, { kind, channel: "system", reference: segmentId, occurredAt: now });

  let entering: string[] = [];
  let leaving: string[] = [];
  let entered = 0;
  let left = 0;
  const write = async () => {
    const statements: Statement[] = [];
    if (entering.length) {
      statements.push(
        sql`INSERT INTO segment_members (segment_id, member_id, entered_at) SELECT ${segmentId}, value, ${now} FROM json_each(${JSON.stringify(entering)})`,
        record("segment_enter", entering),
      );
    }
    if (leaving.length) {
      statements.push(
        sql`DELETE FROM segment_members WHERE segment_id = ${segmentId} AND member_id IN (SELECT value FROM json_each(${JSON.stringify(leaving)}))`,
        record("segment_leave", leaving),
      );
    }
    if (statements.length === 0) return;
    statements.push(sql`UPDATE segments SET member_count = member_count + ${entering.length - leaving.length} WHERE id = ${segmentId}`);
    await deps.database.atomic(statements);
    entered += entering.length;
    left += leaving.length;
    entering = [];
    leaving = [];
  };

  let m = await matched();
  let h = await held();
  while (m !== undefined || h !== undefined) {
    if (m !== undefined && (h === undefined || m < h)) {
      entering.push(m);
      m = await matched();
    } else if (h !== undefined && (m === undefined || h < m)) {
      leaving.push(h);
      h = await held();
    } else {
      m = await matched();
      h = await held();
    }
    if (entering.length + leaving.length === UNIT_SIZE) await write();
  }
  await write();
  await deps.database.atomic([sql`UPDATE segments SET refreshed_at = ${now} WHERE id = ${segmentId}`]);
  return { entered, left };
}

/** Recomputes one segment's membership: new members enter, leavers leave; idempotent. */
export async function refreshSegment(deps: Deps, segmentId: string): Promise<RefreshResult> {
  await findSegment(deps, segmentId);
  const { entered, left } = await withLease(deps, segmentId, async (now) => {
    // Read under the lease: a rule changed just before is the one applied.
    const row = await findSegment(deps, segmentId);
    return syncMembership(deps, segmentId, await storedQuery(deps, row.rule as Rule, now), now);
  });
  const row = await findSegment(deps, segmentId);
  return { segmentId, entered, left, memberCount: row.memberCount, refreshedAt: isoTime(row.refreshedAt!) };
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
