/**
 * The customer profile, updated incrementally: each interaction adds its O(1) share to the
 * member's profile row (and its partner and category affinities) in the same atomic unit as the
 * business change, so the profile is never behind, never doubled, and never needs a history scan
 * (a back-dated purchase recounts the member's purchase days within the interactions index).
 */
import { sql, type SQL } from "drizzle-orm";
import { rendered, type Statement } from "../../db/database.ts";
import { localDayNumber } from "../domain/expiry.ts";
import { spendByCategory } from "../domain/refund.ts";
import { DAY_MS } from "../lib/time.ts";

/** Creates the member's profile row if it is missing, then applies `set` to it. */
function upsertProfile(now: number, memberId: string, set: ReturnType<typeof sql>): Statement[] {
  return [
    sql`INSERT OR IGNORE INTO member_profiles (member_id, updated_at) VALUES (${memberId}, ${now})`,
    sql`UPDATE member_profiles SET ${set}, updated_at = ${now} WHERE member_id = ${memberId}`,
  ];
}

function affinity(memberId: string, subject: string, amountMinor: number, at: number): Statement {
  return rendered`INSERT INTO member_affinities (member_id, subject, purchases, amount_minor, last_at) VALUES (${memberId}, ${subject}, 1, ${amountMinor}, ${at})
             ON CONFLICT (member_id, subject) DO UPDATE SET purchases = purchases + 1, amount_minor = amount_minor + excluded.amount_minor,
                                                            last_at = MAX(last_at, excluded.last_at)`;
}

export interface PurchaseFacts {
  memberId: string;
  partnerId: string;
  /** The partner's business category: the affinity of a purchase without items. */
  partnerCategory: string;
  at: number;
  /** What the sale was worth after offers (paid in money or points). */
  amountMinor: number;
  lines?: Array<{ category: string; amountMinor: number }> | undefined;
  pointsEarned: number;
  pointsSpent: number;
  offersUsed: number;
  utcOffsetMinutes: number;
}

/**
 * A purchase's share of the profile. Its local day is a new purchase day when it is later than the
 * last purchase's day; a back-dated purchase (a till catching up, history imported late) recounts
 * the member's distinct purchase days from the interactions index instead.
 */
export function purchaseProfileStatements(now: number, p: PurchaseFacts): Statement[] {
  const day = localDayNumber(p.at, p.utcOffsetMinutes);
  const offsetMs = p.utcOffsetMinutes * 60_000;
  const categories = spendByCategory(p.amountMinor, p.lines?.length ? p.lines : [{ category: p.partnerCategory, amountMinor: p.amountMinor }]);
  return [
    rendered`INSERT INTO member_profiles (member_id, first_purchase_at, first_purchase_minor, last_purchase_at, purchase_count, purchase_days, monetary_minor,
                                     points_earned, points_redeemed, offers_used, interaction_count, last_interaction_at, updated_at)
        VALUES (${p.memberId}, ${p.at}, ${p.amountMinor}, ${p.at}, 1, 1, ${p.amountMinor}, ${p.pointsEarned}, ${p.pointsSpent}, ${p.offersUsed}, 1, ${p.at}, ${now})
        ON CONFLICT (member_id) DO UPDATE SET
          purchase_days = CASE
            WHEN last_purchase_at IS NULL OR ${day} > CAST((last_purchase_at + ${offsetMs}) / ${DAY_MS} AS INTEGER) THEN purchase_days + 1
            WHEN ${day} = CAST((last_purchase_at + ${offsetMs}) / ${DAY_MS} AS INTEGER) THEN purchase_days
            -- Days up to the last one counted, and this one: whether or not this purchase's interaction
            -- is written yet, and without the later lines of an import unit that are not counted yet.
            ELSE (SELECT COUNT(*) FROM (SELECT CAST((i.occurred_at + ${offsetMs}) / ${DAY_MS} AS INTEGER) FROM interactions i
                                        WHERE i.member_id = ${p.memberId} AND i.kind = 'purchase'
                                          AND i.occurred_at < (CAST((member_profiles.last_purchase_at + ${offsetMs}) / ${DAY_MS} AS INTEGER) + 1) * ${DAY_MS} - ${offsetMs}
                                        UNION SELECT ${day}))
          END,
          first_purchase_minor = CASE WHEN first_purchase_at IS NULL OR excluded.first_purchase_at < first_purchase_at THEN excluded.first_purchase_minor ELSE first_purchase_minor END,
          first_purchase_at = MIN(COALESCE(first_purchase_at, excluded.first_purchase_at), excluded.first_purchase_at),
          last_purchase_at = MAX(COALESCE(last_purchase_at, excluded.last_purchase_at), excluded.last_purchase_at),
          purchase_count = purchase_count + 1,
          monetary_minor = monetary_minor + excluded.monetary_minor,
          points_earned = points_earned + excluded.points_earned,
          points_redeemed = points_redeemed + excluded.points_redeemed,
          offers_used = offers_used + excluded.offers_used,
          interaction_count = interaction_count + 1,
          last_interaction_at = MAX(COALESCE(last_interaction_at, excluded.last_interaction_at), excluded.last_interaction_at),
          updated_at = excluded.updated_at`,
    affinity(p.memberId, `partner:${p.partnerId}`, p.amountMinor, p.at),
    ...[...categories].map(([category, amount]) => affinity(p.memberId, `category:${category}`, amount, p.at)),
  ];
}

export interface RefundFacts {
  memberId: string;
  partnerId: string;
  at: number;
  refundedMinor: number;
  /** What the refund takes off each of the purchase's categories (spendByCategory before − after). */
  categoriesMinor: ReadonlyMap<string, number>;
  pointsClawedBack: number;
  pointsRestored: number;
}

/**
 * A refund's share: the money and points it took back, from the totals and from the favourites
 * alike (the purchase itself still happened, so the purchase counts stay).
 */
export function refundProfileStatements(now: number, r: RefundFacts): Statement[] {
  const takeBack = (subject: string, amountMinor: number) =>
    sql`UPDATE member_affinities SET amount_minor = amount_minor - ${amountMinor} WHERE member_id = ${r.memberId} AND subject = ${subject}`;
  return [
    ...upsertProfile(
      now,
      r.memberId,
      sql`refund_count = refund_count + 1, refunded_minor = refunded_minor + ${r.refundedMinor},
          monetary_minor = monetary_minor - ${r.refundedMinor}, points_earned = points_earned - ${r.pointsClawedBack},
          points_redeemed = points_redeemed - ${r.pointsRestored}, interaction_count = interaction_count + 1,
          last_interaction_at = MAX(COALESCE(last_interaction_at, ${r.at}), ${r.at})`,
    ),
    takeBack(`partner:${r.partnerId}`, r.refundedMinor),
    ...[...r.categoriesMinor].filter(([, amount]) => amount !== 0).map(([category, amount]) => takeBack(`category:${category}`, amount)),
  ];
}

/** Points that expired unused. */
export function expiryProfileStatements(now: number, e: { memberId: string; points: number | SQL }): Statement[] {
  return upsertProfile(now, e.memberId, sql`points_expired = points_expired + ${e.points}`);
}

/**
 * Any other interaction: counted, and a contact (a call, a reply, an opened message) or a
 * satisfaction score (1–5) updates those facts.
 */
export function contactProfileStatements(now: number, c: { memberId: string; at: number; isContact: boolean; satisfaction?: number | undefined }): Statement[] {
  return upsertProfile(
    now,
    c.memberId,
    sql`interaction_count = interaction_count + 1,
        last_interaction_at = MAX(COALESCE(last_interaction_at, ${c.at}), ${c.at}),
        last_contact_at = ${c.isContact ? sql`MAX(COALESCE(last_contact_at, ${c.at}), ${c.at})` : sql`last_contact_at`},
        satisfaction_sum = satisfaction_sum + ${c.satisfaction ?? 0},
        satisfaction_count = satisfaction_count + ${c.satisfaction === undefined ? 0 : 1}`,
  );
}

/** What a batch of such interactions adds to one member's profile, summed before writing. */
export interface InteractionTotals {
  memberId: string;
  count: number;
  lastAt: number;
  /** The latest contact among them; null when none was one. */
  lastContactAt: number | null;
  satisfactionSum: number;
  satisfactionCount: number;
}

/**
 * contactProfileStatements for many members in one statement: the totals travel as one JSON
 * parameter (D1 binds at most 100 per statement), so an ingested batch costs one profile write,
 * not one per event.
 */
export function interactionTotalsStatement(now: number, totals: InteractionTotals[]): Statement {
  const field = (name: keyof InteractionTotals) => sql.raw(`json_extract(value, '$.${name}')`);
  return sql`INSERT INTO member_profiles (member_id, interaction_count, last_interaction_at, last_contact_at, satisfaction_sum, satisfaction_count, updated_at)
             SELECT ${field("memberId")}, ${field("count")}, ${field("lastAt")}, ${field("lastContactAt")}, ${field("satisfactionSum")}, ${field("satisfactionCount")}, ${now}
             FROM json_each(${JSON.stringify(totals)}) WHERE true
             ON CONFLICT (member_id) DO UPDATE SET
               interaction_count = interaction_count + excluded.interaction_count,
               last_interaction_at = MAX(COALESCE(last_interaction_at, excluded.last_interaction_at), excluded.last_interaction_at),
               last_contact_at = CASE WHEN excluded.last_contact_at IS NULL THEN last_contact_at
                                      ELSE MAX(COALESCE(last_contact_at, excluded.last_contact_at), excluded.last_contact_at) END,
               satisfaction_sum = satisfaction_sum + excluded.satisfaction_sum,
               satisfaction_count = satisfaction_count + excluded.satisfaction_count,
               updated_at = excluded.updated_at`;
}
