/** Members: enrollment, reading, updating and searching. */
import { newestFirst } from "../../store/page.ts";
import { and, eq, exists, inArray, like, or, sql, type SQL } from "drizzle-orm";
import { isConstraintViolation, prepared } from "../../../db/database.ts";
import { cards, consents, memberBalances, memberPins, members } from "../../../db/schema.ts";
import type { Deps } from "../../deps.ts";
import { PIN_MAX_ATTEMPTS } from "../../domain/pin.ts";
import { AppError, type FieldError } from "../../errors.ts";
import { newId } from "../../lib/ids.ts";
import { toE164 } from "../../lib/phone.ts";
import type { ConsentChannel, Gender } from "../../domain/members.ts";
import type { Principal } from "../../domain/principal.ts";
import { recordedInteractionStatements } from "../../store/interactions.ts";
import { isoDate, isoTime } from "../../lib/time.ts";

export interface EnrollInput {
  name: string;
  preferredName?: string | null | undefined;
  email?: string | null | undefined;
  phone?: string | null | undefined;
  birthDate?: string | null | undefined;
  gender?: Gender | null | undefined;
  region?: string | null | undefined;
  marketingConsent?: { channels: ConsentChannel[]; source: string } | undefined;
}

export type MemberPatch = Partial<Omit<EnrollInput, "marketingConsent" | "name">> & {
  name?: string | undefined;
};

type MemberRow = typeof members.$inferSelect;
type PinStatus = { set: boolean; locked: boolean };
type ConsentRow = typeof consents.$inferSelect;

export interface MemberView {
  id: string;
  name: string;
  preferredName: string | null;
  email: string | null;
  phone: string | null;
  birthDate: string | null;
  gender: Gender | null;
  region: string | null;
  tier: string;
  status: "active" | "closed";
  consents: Array<{ purpose: string; channel: string; granted: boolean; source: string; recordedAt: string }>;
  /** Whether the member has a PIN for the till, and whether wrong entries have locked it. */
  pin: PinStatus;
  createdAt: string;
  updatedAt: string;
}

function invalid(errors: FieldError[]): never {
  throw new AppError("validation_failed", "The request has invalid fields.", { errors });
}

/** A birth date may not be after today — today by the app's clock, in UTC. */
function checkBirthDate(deps: Deps, birthDate: string | null | undefined) {
  if (birthDate && birthDate > isoDate(deps.clock())) {
    invalid([{ field: "birthDate", message: "Must not be in the future" }]);
  }
}

/** Emails are compared lowercased; phones in E.164 so 010-1234-5678 and +821012345678 collide. */
function normalizeContacts(input: { email?: string | null; phone?: string | null }) {
  const email = input.email == null ? input.email : input.email.trim().toLowerCase();
  let phone = input.phone;
  if (phone != null) {
    const e164 = toE164(phone);
    if (!e164) invalid([{ field: "phone", message: "Not a valid phone number" }]);
    phone = e164;
  }
  return { email, phone };
}

async function assertContactsFree(deps: Deps, email: string | null | undefined, phone: string | null | undefined, self?: string) {
  const conditions: SQL[] = [];
  if (email) conditions.push(eq(members.email, email));
  if (phone) conditions.push(eq(members.phone, phone));
  if (conditions.length === 0) return;
  const rows = await deps.database.db
    .select({ id: members.id, email: members.email, phone: members.phone })
    .from(members)
    .where(or(...conditions))
    .limit(2);
  // The member being updated may match its own email while another member holds the phone.
  const clash = rows.find((row) => row.id !== self);
  if (clash) {
    const field = email && clash.email === email ? "email" : "phone";
    throw new AppError("member_exists", `A member with this ${field} already exists.`, {
      memberId: clash.id,
      errors: [{ field, message: "Already registered" }],
    });
  }
}

/** A UNIQUE violation that slipped past the pre-check (a concurrent enrollment) is still a 409. */
async function translateUniqueViolation<T>(deps: Deps, input: { email?: string | null; phone?: string | null }, self: string | undefined, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (isConstraintViolation(error, "UNIQUE")) {
      await assertContactsFree(deps, input.email, input.phone, self);
    }
    throw error;
  }
}

export async function enrollMember(deps: Deps, input: EnrollInput): Promise<MemberView> {
  const { email, phone } = normalizeContacts(input);
  checkBirthDate(deps, input.birthDate);
  if (!email && !phone) {
    invalid([{ field: "email", message: "An email or a phone number is required" }]);
  }
  await assertContactsFree(deps, email, phone);
  const now = deps.clock();
  const id = newId("member", now);
  const { db } = deps.database;
  const consentRows = (input.marketingConsent?.channels ?? []).map((channel) => ({
    id: newId("consent", now),
    memberId: id,
    purpose: "marketing",
    channel,
    granted: true,
    source: input.marketingConsent!.source,
    recordedAt: now,
  }));
  await translateUniqueViolation(deps, { email, phone }, undefined, () =>
    deps.database.atomic([
      db.insert(members).values({
        id,
        name: input.name,
        preferredName: input.preferredName ?? null,
        email: email ?? null,
        phone: phone ?? null,
        birthDate: input.birthDate ?? null,
        gender: input.gender ?? null,
        region: input.region ?? null,
        createdAt: now,
        updatedAt: now,
      }),
      db.insert(memberBalances).values({ memberId: id, updatedAt: now }),
      ...consentRows.map((row) => db.insert(consents).values(row)),
      ...recordedInteractionStatements(deps.clock(), { memberId: id, kind: "enrolment", channel: "system", occurredAt: now }),
    ]),
  );
  return getMember(deps, id);
}

export async function findMemberRow(deps: Deps, memberId: string): Promise<MemberRow> {
  const query = prepared(deps.database.db, "members.byId", (db) => db.select().from(members).where(eq(members.id, sql.placeholder("id"))).prepare());
  const row = await query.get({ id: memberId });
  if (!row) throw new AppError("not_found", `No member ${memberId}.`);
  return row;
}

export async function getMember(deps: Deps, memberId: string): Promise<MemberView> {
  const row = await findMemberRow(deps, memberId);
  const rows = await deps.database.db
    .select()
    .from(consents)
    .where(eq(consents.memberId, memberId))
    .orderBy(consents.recordedAt);
  return toView(row, rows, (await pinStatuses(deps, [memberId])).get(memberId));
}

/** The PIN's state, never its hash, for each member that has one. */
async function pinStatuses(deps: Deps, memberIds: string[]): Promise<Map<string, PinStatus>> {
  if (memberIds.length === 0) return new Map();
  const rows = await deps.database.db
    .select({ memberId: memberPins.memberId, failedAttempts: memberPins.failedAttempts })
    .from(memberPins)
    .where(inArray(memberPins.memberId, memberIds));
  return new Map(rows.map((r) => [r.memberId, { set: true, locked: r.failedAttempts >= PIN_MAX_ATTEMPTS }]));
}

/**
 * Changes a member's record. A member may change everything but the email and phone they sign
 * in with: had the change gone through when the contact was free and failed when another member
 * held it, the answer would tell a member who else is enrolled. Staff, who verify the new
 * contact, change those.
 */
export async function updateMember(deps: Deps, actor: Principal, memberId: string, patch: MemberPatch): Promise<MemberView> {
  checkBirthDate(deps, patch.birthDate);
  const current = await findMemberRow(deps, memberId);
  const contacts = normalizeContacts({ email: patch.email, phone: patch.phone });
  const email = patch.email === undefined ? current.email : contacts.email ?? null;
  const phone = patch.phone === undefined ? current.phone : contacts.phone ?? null;
  if (actor.role === "member" && (email !== current.email || phone !== current.phone)) {
    throw new AppError("forbidden", "Your email and phone number are changed by our staff, who confirm the new contact; the rest you may change here.", {
      errors: [{ field: email !== current.email ? "email" : "phone", message: "Changed by staff only" }],
    });
  }
  if (!email && !phone) {
    invalid([{ field: patch.email === null ? "email" : "phone", message: "A member keeps an email or a phone number" }]);
  }
  await assertContactsFree(deps, patch.email === undefined ? null : email, patch.phone === undefined ? null : phone, memberId);
  const { db } = deps.database;
  const changes = {
    ...(patch.name !== undefined && { name: patch.name }),
    ...(patch.preferredName !== undefined && { preferredName: patch.preferredName }),
    ...(patch.birthDate !== undefined && { birthDate: patch.birthDate }),
    ...(patch.gender !== undefined && { gender: patch.gender }),
    ...(patch.region !== undefined && { region: patch.region }),
    email,
    phone,
    updatedAt: deps.clock(),
  };
  await translateUniqueViolation(deps, { email, phone }, memberId, () =>
    deps.database.atomic([db.update(members).set(changes).where(eq(members.id, memberId))]),
  );
  return getMember(deps, memberId);
}

/** Escapes LIKE's wildcards so a search for "50%" means the text "50%". */
function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export async function searchMembers(deps: Deps, query: { q?: string | undefined; cursor?: string | undefined; limit: number }) {
  const { db } = deps.database;
  const conditions: SQL[] = [];
  const q = query.q?.trim();
  if (q) {
    const pattern = likePattern(q.toLowerCase());
    const matches: SQL[] = [
      sql`lower(${members.name}) LIKE ${pattern} ESCAPE '\\'`,
      sql`${members.email} LIKE ${pattern} ESCAPE '\\'`,
    ];
    // Four digits or more may be a card number (by prefix) or a phone number (local or E.164).
    const digits = q.replace(/\D/g, "");
    if (digits.length >= 4) {
      const byCard = db
        .select({ one: sql`1` })
        .from(cards)
        .where(and(eq(cards.memberId, members.id), like(cards.number, `${digits}%`)));
      // A whole number in any notation matches exactly; any run of digits (the last four, or
      // "1234-5678", which also happens to parse as a number) matches inside stored numbers.
      const e164 = toE164(q);
      matches.push(exists(byCard), like(members.phone, likePattern(digits.replace(/^0/, ""))));
      if (e164) matches.push(eq(members.phone, e164));
    }
    conditions.push(or(...matches)!);
  }
  const page = await newestFirst(db, members, query, conditions.length ? and(...conditions) : undefined);
  const consentRows = page.items.length
    ? await db.select().from(consents).where(inArray(consents.memberId, page.items.map((m) => m.id))).orderBy(consents.recordedAt)
    : [];
  const pins = await pinStatuses(deps, page.items.map((m) => m.id));
  return {
    items: page.items.map((row) => toView(row, consentRows.filter((c) => c.memberId === row.id), pins.get(row.id))),
    nextCursor: page.nextCursor,
  };
}

function toView(row: MemberRow, consentRows: ConsentRow[], pin: PinStatus = { set: false, locked: false }): MemberView {
  return {
    id: row.id,
    name: row.name,
    preferredName: row.preferredName,
    email: row.email,
    phone: row.phone,
    birthDate: row.birthDate,
    gender: row.gender,
    region: row.region,
    tier: row.tier,
    status: row.status,
    consents: consentRows.map((c) => ({
      purpose: c.purpose,
      channel: c.channel,
      granted: c.granted,
      source: c.source,
      recordedAt: isoTime(c.recordedAt),
    })),
    pin,
    createdAt: isoTime(row.createdAt),
    updatedAt: isoTime(row.updatedAt),
  };
}
