/**
 * Interactions: every purchase, refund and other touch point of a member, typed, written in the
 * same atomic unit as the change it records so the customer profile never misses or doubles one.
 * Events dangol cannot see for itself (calls, complaints, scores, visits, opened messages) are
 * ingested in batches from partners and staff, each recognised by its sender's own event id.
 */
import { and, desc, eq, lt, or, sql, type SQL } from "drizzle-orm";
import type { z } from "zod";
import { isConstraintViolation, type Statement } from "../../../db/database.ts";
import { interactions, members } from "../../../db/schema.ts";
import { frozenClock, type Deps } from "../../deps.ts";
import { InteractionEventSchema, isContact, SCORE_ATTRIBUTE, type InteractionEvent, type InteractionKind } from "../../domain/interactions.ts";
import { AppError, fieldErrorsOf, invalidField, PROBLEM_LIMITS, type FieldError } from "../../errors.ts";
import { decodeCursor, paginate } from "../../lib/cursor.ts";
import { newId } from "../../lib/ids.ts";
import { isoTime } from "../../lib/time.ts";
import type { Principal } from "../../domain/principal.ts";
import { interactionTotalsStatement, type InteractionTotals } from "../../store/profiles.ts";
import { rowsForValues } from "../../store/rows-for-values.ts";

// ---------------------------------------------------------------------------------------------
// Ingesting events in batches.

export const MAX_EVENTS_PER_CALL = 1_000;
/** Events per atomic unit: small enough for D1's statement limits, large enough to be quick. */
const EVENTS_PER_UNIT = 100;
/** How far ahead of our clock a sender's clock may run. */
const MAX_CLOCK_SKEW_MS = 5 * 60_000;
const MAX_UNIT_ATTEMPTS = 5;

export type IngestStatus = "created" | "duplicate" | "rejected";

export interface IngestItemResult {
  index: number;
  eventId: string | null;
  status: IngestStatus;
  interactionId?: string;
  errors?: FieldError[];
}

export interface IngestResult {
  accepted: number;
  duplicates: number;
  rejected: number;
  results: IngestItemResult[];
}

type Sender = Extract<Principal, { role: "admin" | "marketer" | "partner" }>;

/** An event that passed every check, on its way to a row. */
interface Accepted {
  index: number;
  event: InteractionEvent;
  at: number;
  partnerId: string | null;
  id: string;
}

/** Who sent an event: its event ids are unique per sender, not across senders. */
function sourceOf(sender: Sender): string {
  return sender.role === "partner" ? `partner:${sender.partnerId}` : "staff";
}

/** Zod issues of one event as field errors named from the request body: `events.3.occurredAt`, at most as many as a problem lists. */
function itemErrors(index: number, issues: readonly z.core.$ZodIssue[]): FieldError[] {
  // An attribute's union names what it takes in its own message; its branches would only repeat it.
  return fieldErrorsOf(issues, ["events", index], "events", { unionBranches: false }).slice(0, PROBLEM_LIMITS.maxFieldErrors);
}

/** The interactions already recorded from this sender under these event ids: event id → interaction id. */
async function recordedEvents(deps: Deps, source: string, eventIds: Iterable<string>): Promise<Map<string, string>> {
  const rows = await rowsForValues<Record<string, string>>(deps, eventIds, (ids) => sql`SELECT external_id AS eventId, id FROM interactions WHERE source = ${source} AND external_id IN ${ids}`);
  return new Map(rows.map((r) => [r.eventId!, r.id!]));
}

/** Checks that need the clock, the caller or the database; every failing field is named. */
async function semanticErrors(deps: Deps, sender: Sender, parsed: Array<{ index: number; event: InteractionEvent }>) {
  const ownPartner = sender.role === "partner" ? sender.partnerId : null;
  const [memberRows, partnerRows, storeRows] = await Promise.all([
    rowsForValues<Record<string, string>>(deps, parsed.map((p) => p.event.memberId), (ids) => sql`SELECT id FROM members WHERE id IN ${ids}`),
    rowsForValues<Record<string, string>>(deps, ownPartner ? [] : parsed.flatMap((p) => (p.event.partnerId ? [p.event.partnerId] : [])), (ids) => sql`SELECT id FROM partners WHERE id IN ${ids}`),
    rowsForValues<Record<string, string>>(deps, parsed.flatMap((p) => (p.event.storeId ? [p.event.storeId] : [])), (ids) => sql`SELECT id, partner_id AS partnerId FROM stores WHERE id IN ${ids}`),
  ]);
  const knownMembers = new Set(memberRows.map((r) => r.id));
  const knownPartners = new Set(partnerRows.map((r) => r.id));
  const storePartner = new Map(storeRows.map((r) => [r.id!, r.partnerId!]));
  const latest = deps.clock() + MAX_CLOCK_SKEW_MS;
  return parsed.map(({ index, event }) => {
    const errors: FieldError[] = [];
    const field = (name: string, message: string) => errors.push({ field: `events.${index}.${name}`, message });
    const at = Date.parse(event.occurredAt);
    if (at > latest) field("occurredAt", "More than 5 minutes in the future");
    let partnerId: string | null = event.partnerId ?? ownPartner;
    if (ownPartner && event.partnerId !== undefined && event.partnerId !== ownPartner) {
      field("partnerId", "A partner key sends events of its own partner only");
      partnerId = null;
    } else if (!ownPartner && partnerId !== null && !knownPartners.has(partnerId)) {
      field("partnerId", `No partner ${partnerId}`);
      partnerId = null;
    }
    if (event.storeId !== undefined) {
      if (event.partnerId === undefined && !ownPartner) field("storeId", "Name the partner the store belongs to (partnerId)");
      else if (partnerId !== null && storePartner.get(event.storeId) !== partnerId) field("storeId", `No store ${event.storeId} at partner ${partnerId}`);
    }
    if (!knownMembers.has(event.memberId)) field("memberId", `No member ${event.memberId}`);
    return { index, event, at, partnerId, errors };
  });
}

function insertStatement(deps: Deps, source: string, rows: Accepted[]): Statement {
  const values = rows.map(({ event, at, partnerId, id }) => {
    const attributes = event.kind === "satisfaction" ? { ...event.attributes, [SCORE_ATTRIBUTE]: event.score } : event.attributes;
    return {
      id,
      memberId: event.memberId,
      kind: event.kind,
      channel: event.channel,
      partnerId,
      storeId: event.storeId ?? null,
      amountMinor: event.amountMinor ?? null,
      points: event.points ?? null,
      reference: event.reference ?? null,
      attributes: attributes ? JSON.stringify(attributes) : null,
      eventId: event.eventId,
      occurredAt: at,
    };
  });
  const v = (name: keyof (typeof values)[number]) => sql.raw(`json_extract(value, '$.${name}')`);
  // The whole unit's rows travel as one JSON parameter (D1 binds at most 100 per statement).
  return sql`INSERT INTO interactions (id, member_id, kind, channel, partner_id, store_id, amount_minor, points, reference, attributes, source, external_id, occurred_at, created_at)
             SELECT ${v("id")}, ${v("memberId")}, ${v("kind")}, ${v("channel")}, ${v("partnerId")}, ${v("storeId")}, ${v("amountMinor")}, ${v("points")},
                    ${v("reference")}, ${v("attributes")}, ${source}, ${v("eventId")}, ${v("occurredAt")}, ${deps.clock()}
             FROM json_each(${JSON.stringify(values)})`;
}

/** What a unit's events add to each member's profile. */
function totalsOf(rows: Accepted[]): InteractionTotals[] {
  const byMember = new Map<string, InteractionTotals>();
  for (const { event, at } of rows) {
    const t = byMember.get(event.memberId) ?? { memberId: event.memberId, count: 0, lastAt: at, lastContactAt: null, satisfactionSum: 0, satisfactionCount: 0 };
    t.count += 1;
    t.lastAt = Math.max(t.lastAt, at);
    if (isContact(event.kind)) t.lastContactAt = Math.max(t.lastContactAt ?? at, at);
    if (event.kind === "satisfaction" && event.score !== undefined) {
      t.satisfactionSum += event.score;
      t.satisfactionCount += 1;
    }
    byMember.set(event.memberId, t);
  }
  return [...byMember.values()];
}

/**
 * Writes one unit: its interactions and their share of the profiles, or nothing. A concurrent
 * call that recorded some of the same event ids first makes the UNIQUE (source, external_id)
 * index abort the unit; those events are then duplicates and the rest is written again.
 */
async function commitUnit(deps: Deps, source: string, rows: Accepted[], duplicateOf: Map<number, string>): Promise<Accepted[]> {
  let pending = rows;
  for (let attempt = 1; pending.length > 0; attempt++) {
    try {
      await deps.database.atomic([insertStatement(deps, source, pending), interactionTotalsStatement(deps.clock(), totalsOf(pending))]);
      return pending;
    } catch (error) {
      if (!isConstraintViolation(error, "UNIQUE", "interactions.") || attempt >= MAX_UNIT_ATTEMPTS) throw error;
      const recorded = await recordedEvents(deps, source, pending.map((r) => r.event.eventId));
      if (recorded.size === 0) throw error;
      for (const row of pending) {
        const id = recorded.get(row.event.eventId);
        if (id) duplicateOf.set(row.index, id);
      }
      pending = pending.filter((row) => !recorded.has(row.event.eventId));
    }
  }
  return [];
}

/**
 * Records a batch of events. Each is judged on its own: a bad one is rejected with its fields
 * named and does not stop the others; one already recorded from the same sender (by its event
 * id, in this batch or an earlier one) is a duplicate and counts once. Accepted events are
 * written with their share of the profile, EVENTS_PER_UNIT to an atomic unit.
 */
export async function ingestInteractions(live: Deps, sender: Principal, events: unknown[]): Promise<IngestResult> {
  if (sender.role !== "admin" && sender.role !== "marketer" && sender.role !== "partner") throw new AppError("forbidden", "This credential may not send interactions.");
  // One time for the whole call: every row it writes carries the same recordedAt.
  const deps = frozenClock(live);
  const source = sourceOf(sender);
  const results: IngestItemResult[] = events.map((raw, index) => {
    const eventId = raw && typeof raw === "object" && "eventId" in raw && typeof raw.eventId === "string" && raw.eventId.length <= 128 ? raw.eventId : null;
    return { index, eventId, status: "rejected" };
  });
  const reject = (index: number, errors: FieldError[]) => Object.assign(results[index]!, { status: "rejected", errors });

  const parsed: Array<{ index: number; event: InteractionEvent }> = [];
  events.forEach((raw, index) => {
    const outcome = InteractionEventSchema.safeParse(raw);
    if (outcome.success) parsed.push({ index, event: outcome.data });
    else reject(index, itemErrors(index, outcome.error.issues));
  });

  // The first valid event with an id is the one; later ones in the batch are its duplicates.
  const firstOf = new Map<string, number>();
  const sameAs = new Map<number, number>();
  const candidates: Array<Omit<Accepted, "id">> = [];
  for (const { errors, ...checked } of await semanticErrors(deps, sender, parsed)) {
    if (errors.length) {
      reject(checked.index, errors);
      continue;
    }
    const first = firstOf.get(checked.event.eventId);
    if (first !== undefined) {
      sameAs.set(checked.index, first);
      continue;
    }
    firstOf.set(checked.event.eventId, checked.index);
    candidates.push(checked);
  }

  // Resent events, found with one query; a resend that races this call is caught at commit.
  const duplicateOf = new Map<number, string>();
  const recorded = await recordedEvents(deps, source, candidates.map((c) => c.event.eventId));
  const fresh: Accepted[] = [];
  for (const candidate of candidates) {
    const id = recorded.get(candidate.event.eventId);
    if (id) duplicateOf.set(candidate.index, id);
    else fresh.push({ ...candidate, id: newId("interaction", deps.clock()) });
  }

  const units: Accepted[][] = [];
  for (let i = 0; i < fresh.length; i += EVENTS_PER_UNIT) units.push(fresh.slice(i, i + EVENTS_PER_UNIT));
  // Queued together, the units share one commit on better-sqlite3 (each in its own savepoint).
  const outcomes = await Promise.allSettled(units.map((unit) => commitUnit(deps, source, unit, duplicateOf)));
  const failed = outcomes.find((o) => o.status === "rejected");
  if (failed) throw failed.reason;

  const createdIds = new Map<number, string>();
  for (const outcome of outcomes) if (outcome.status === "fulfilled") for (const row of outcome.value) createdIds.set(row.index, row.id);
  for (const [index, id] of createdIds) Object.assign(results[index]!, { status: "created", interactionId: id });
  for (const [index, id] of duplicateOf) Object.assign(results[index]!, { status: "duplicate", interactionId: id });
  for (const [index, first] of sameAs) {
    const id = createdIds.get(first) ?? duplicateOf.get(first);
    Object.assign(results[index]!, { status: "duplicate", ...(id && { interactionId: id }) });
  }
  const count = (status: IngestStatus) => results.filter((r) => r.status === status).length;
  return { accepted: count("created"), duplicates: count("duplicate"), rejected: count("rejected"), results };
}

// ---------------------------------------------------------------------------------------------
// Reading them.

type InteractionRow = typeof interactions.$inferSelect;

export function interactionView(row: InteractionRow) {
  let attributes = (row.attributes ?? null) as Record<string, unknown> | null;
  let score: number | null = null;
  // A satisfaction score is kept among the stored attributes; it is shown on its own.
  if (row.kind === "satisfaction" && attributes && typeof attributes[SCORE_ATTRIBUTE] === "number") {
    const { [SCORE_ATTRIBUTE]: value, ...rest } = attributes;
    score = value as number;
    attributes = Object.keys(rest).length ? rest : null;
  }
  return {
    id: row.id,
    kind: row.kind,
    channel: row.channel,
    partnerId: row.partnerId,
    storeId: row.storeId,
    amountMinor: row.amountMinor,
    points: row.points,
    reference: row.reference,
    score,
    attributes,
    source: row.source,
    eventId: row.externalId,
    occurredAt: isoTime(row.occurredAt),
    recordedAt: isoTime(row.createdAt),
  };
}

/** Pages go newest first by when it happened (events may arrive late), then by id. */
function cursorKey(row: InteractionRow): string {
  return `${row.occurredAt}.${row.id}`;
}

function afterCursor(cursor: string): SQL {
  const match = /^(\d{1,15})\.(\S{1,64})$/.exec(decodeCursor(cursor));
  if (!match) throw invalidField("cursor", "Invalid cursor", "The cursor is not one this API returned.");
  const at = Number(match[1]);
  return or(lt(interactions.occurredAt, at), and(eq(interactions.occurredAt, at), lt(interactions.id, match[2]!)))!;
}

export async function listMemberInteractions(deps: Deps, memberId: string, query: { kind?: InteractionKind | undefined; cursor?: string | undefined; limit: number }) {
  const after = query.cursor ? afterCursor(query.cursor) : undefined;
  const { db } = deps.database;
  const [member] = await db.select({ id: members.id }).from(members).where(eq(members.id, memberId));
  if (!member) throw new AppError("not_found", `No member ${memberId}.`);
  const rows = await db
    .select()
    .from(interactions)
    .where(and(eq(interactions.memberId, memberId), query.kind ? eq(interactions.kind, query.kind) : undefined, after))
    .orderBy(desc(interactions.occurredAt), desc(interactions.id))
    .limit(query.limit + 1);
  const page = paginate(rows, query.limit, cursorKey);
  return { items: page.items.map(interactionView), nextCursor: page.nextCursor };
}
