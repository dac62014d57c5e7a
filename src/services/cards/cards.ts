/** Membership cards: issue, block, unblock, replace. One active card per member (a SQL guard). */
import { and, eq, inArray, sql } from "drizzle-orm";
import { isConstraintViolation, prepared } from "../../../db/database.ts";
import { cards } from "../../../db/schema.ts";
import type { Deps } from "../../deps.ts";
import { cardNumberFrom } from "../../domain/luhn.ts";
import { AppError } from "../../errors.ts";
import { cryptoRandomBytes, newId, type RandomBytes } from "../../lib/ids.ts";
import { findMemberRow } from "../members/members.ts";
import { auditStatement } from "../../store/audit.ts";
import type { Principal } from "../../domain/principal.ts";
import { newestFirst } from "../../store/page.ts";
import { isoTime } from "../../lib/time.ts";

type CardRow = typeof cards.$inferSelect;
export type CardStatus = CardRow["status"];

export interface CardView {
  number: string;
  memberId: string;
  status: CardStatus;
  replacedBy: string | null;
  issuedAt: string;
  statusChangedAt: string;
}

/** Eleven random digits between the program prefix and the Luhn check digit. */
export function randomCardNumber(random: RandomBytes = cryptoRandomBytes): string {
  let digits = "";
  for (const byte of random(11)) digits += String(byte % 10);
  return cardNumberFrom(digits);
}

export async function findCardByNumber(deps: Deps, number: string): Promise<CardRow> {
  const query = prepared(deps.database.db, "cards.byNumber", (db) => db.select().from(cards).where(eq(cards.number, sql.placeholder("number"))).prepare());
  const row = await query.get({ number });
  if (!row) throw new AppError("card_not_found", "No card with this number.");
  return row;
}

export async function findCardById(deps: Deps, id: string): Promise<CardRow> {
  const query = prepared(deps.database.db, "cards.byId", (db) => db.select().from(cards).where(eq(cards.id, sql.placeholder("id"))).prepare());
  const row = await query.get({ id });
  if (!row) throw new AppError("card_not_found", "No such card.");
  return row;
}

export async function activeCardOf(deps: Deps, memberId: string): Promise<CardRow | undefined> {
  const [row] = await deps.database.db
    .select()
    .from(cards)
    .where(and(eq(cards.memberId, memberId), eq(cards.status, "active")));
  return row;
}

function activeCardExists(memberId: string): AppError {
  return new AppError("active_card_exists", "The member already has an active card.", { memberId });
}

/**
 * Runs a card write with a fresh random number: the one-active-card index turns a concurrent
 * issue into a clean 409, and the (one in 10^11) clash with an existing number is drawn again.
 */
async function writeCard(memberId: string, run: (number: string) => Promise<unknown>) {
  for (let attempt = 1; ; attempt++) {
    try {
      await run(randomCardNumber());
      return;
    } catch (error) {
      // The partial index on cards(member_id) WHERE status = 'active' reports as cards.member_id.
      if (isConstraintViolation(error, "UNIQUE", "cards.member_id")) throw activeCardExists(memberId);
      if (attempt < 3 && isConstraintViolation(error, "UNIQUE", "cards.number")) continue;
      throw error;
    }
  }
}

export async function issueCard(deps: Deps, actor: Principal, memberId: string): Promise<CardView> {
  const member = await findMemberRow(deps, memberId);
  if (member.status !== "active") {
    throw new AppError("card_state_conflict", "A closed membership gets no new card.");
  }
  if (await activeCardOf(deps, memberId)) throw activeCardExists(memberId);
  const now = deps.clock();
  const row = { id: newId("card", now), memberId, number: "", status: "active" as const, replacedBy: null, issuedAt: now, statusChangedAt: now };
  const { db } = deps.database;
  await writeCard(memberId, (number) => {
    row.number = number;
    return deps.database.atomic([
      db.insert(cards).values(row),
      auditStatement(deps, actor, "card.issue", { type: "card", id: row.id }),
    ]);
  });
  return toCardView(row, null);
}

export async function blockCard(deps: Deps, actor: Principal, number: string, reason: "blocked" | "lost"): Promise<CardView> {
  const card = await findCardByNumber(deps, number);
  if (card.status !== "active") {
    throw new AppError("card_state_conflict", `A ${card.status} card cannot be blocked.`, { status: card.status });
  }
  const now = deps.clock();
  const { db } = deps.database;
  await deps.database.atomic([
    db.update(cards).set({ status: reason, statusChangedAt: now }).where(and(eq(cards.id, card.id), eq(cards.status, "active"))),
    auditStatement(deps, actor, `card.${reason === "lost" ? "report_lost" : "block"}`, { type: "card", id: card.id }),
  ]);
  return getCard(deps, number);
}

export async function unblockCard(deps: Deps, actor: Principal, number: string): Promise<CardView> {
  const card = await findCardByNumber(deps, number);
  if (card.status !== "blocked") {
    throw new AppError("card_state_conflict", `A ${card.status} card cannot be unblocked${card.status === "lost" ? "; replace it" : ""}.`, { status: card.status });
  }
  const { db } = deps.database;
  try {
    await deps.database.atomic([
      db.update(cards).set({ status: "active", statusChangedAt: deps.clock() }).where(and(eq(cards.id, card.id), eq(cards.status, "blocked"))),
      auditStatement(deps, actor, "card.unblock", { type: "card", id: card.id }),
    ]);
  } catch (error) {
    // Another card became active meanwhile: the partial UNIQUE index keeps one.
    if (isConstraintViolation(error, "UNIQUE", "cards.member_id")) throw activeCardExists(card.memberId);
    throw error;
  }
  return getCard(deps, number);
}

/**
 * Replaces a card: the old number dies (status replaced, pointing at its successor) and a new
 * active card is issued in the same unit. Balance and history belong to the member, so they stay.
 */
export async function replaceCard(deps: Deps, actor: Principal, number: string): Promise<CardView> {
  const card = await findCardByNumber(deps, number);
  if (card.status === "replaced") {
    throw new AppError("card_replaced", "This card was already replaced.", { status: card.status });
  }
  const now = deps.clock();
  const successor = { id: newId("card", now), memberId: card.memberId, number: "", status: "active" as const, replacedBy: null, issuedAt: now, statusChangedAt: now };
  const { db } = deps.database;
  await writeCard(card.memberId, (number) => {
    successor.number = number;
    return deps.database.atomic([
      db.update(cards).set({ status: "replaced", replacedBy: successor.id, statusChangedAt: now }).where(and(eq(cards.id, card.id), eq(cards.status, card.status))),
      db.insert(cards).values(successor),
      auditStatement(deps, actor, "card.replace", { type: "card", id: card.id }),
    ]);
  });
  return toCardView(successor, null);
}

export async function getCard(deps: Deps, number: string): Promise<CardView> {
  const card = await findCardByNumber(deps, number);
  const successor = card.replacedBy ? await findCardById(deps, card.replacedBy) : null;
  return toCardView(card, successor?.number ?? null);
}

export async function listMemberCards(deps: Deps, memberId: string, page: { cursor?: string | undefined; limit: number }) {
  await findMemberRow(deps, memberId);
  const result = await newestFirst(deps.database.db, cards, page, eq(cards.memberId, memberId));
  const byId = new Map(result.items.map((r) => [r.id, r.number]));
  // A successor is newer, so on an earlier page: look up those this page does not hold.
  const missing = [...new Set(result.items.map((r) => r.replacedBy).filter((id): id is string => id !== null && !byId.has(id)))];
  if (missing.length) {
    const successors = await deps.database.db.select({ id: cards.id, number: cards.number }).from(cards).where(inArray(cards.id, missing));
    for (const s of successors) byId.set(s.id, s.number);
  }
  return { items: result.items.map((r) => toCardView(r, r.replacedBy ? byId.get(r.replacedBy) ?? null : null)), nextCursor: result.nextCursor };
}

function toCardView(row: CardRow, replacedByNumber: string | null): CardView {
  return {
    number: row.number,
    memberId: row.memberId,
    status: row.status,
    replacedBy: replacedByNumber,
    issuedAt: isoTime(row.issuedAt),
    statusChangedAt: isoTime(row.statusChangedAt),
  };
}
