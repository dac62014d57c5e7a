/**
 * The 360 view a contact-centre agent or a store manager opens: who the member is, their card,
 * points, profile facts, favourites, recent interactions, scores and the best offers for them —
 * one call. Every staff read is audited with who, when and why.
 */
import { and, desc, eq, like } from "drizzle-orm";
import { interactions, memberAffinities, memberProfiles, memberScores, segmentMembers, segments } from "../../../db/schema.ts";
import type { Deps } from "../../deps.ts";
import { auditStatement } from "../../store/audit.ts";
import { activeCardOf } from "../cards/cards.ts";
import { balanceView } from "../../store/ledger.ts";
import { getMember } from "../members/members.ts";
import { memberOffers } from "../offers/offers.ts";
import type { Principal } from "../../domain/principal.ts";
import { isoTimeOrNull } from "../../lib/time.ts";

/** Why staff open a profile: recorded with every read. */
export const profileReadReasons = ["support_call", "complaint", "store_visit", "member_request", "marketing_review", "fraud_check"] as const;
export type ProfileReadReason = (typeof profileReadReasons)[number];

const RECENT_INTERACTIONS = 10;
const FAVOURITES = 3;

/** The member's top partners or categories by spend: `name` is the partner id or the category. */
async function favourites(deps: Deps, memberId: string, kind: "partner" | "category") {
  const rows = await deps.database.db
    .select()
    .from(memberAffinities)
    .where(and(eq(memberAffinities.memberId, memberId), like(memberAffinities.subject, `${kind}:%`)))
    .orderBy(desc(memberAffinities.amountMinor))
    .limit(FAVOURITES);
  return rows.map((r) => ({ name: r.subject.slice(kind.length + 1), purchases: r.purchases, amountMinor: r.amountMinor }));
}

export async function customer360(deps: Deps, actor: Principal, memberId: string, reason: ProfileReadReason | undefined) {
  const member = await getMember(deps, memberId);
  const { db } = deps.database;
  // Audited before anything is shown: a read that failed half-way was still a look.
  if (actor.role === "admin" || actor.role === "marketer") {
    await deps.database.atomic([auditStatement(deps, actor, "profile.read", { type: "member", id: memberId }, reason)]);
  }
  const [profile] = await db.select().from(memberProfiles).where(eq(memberProfiles.memberId, memberId));
  const [scores] = await db.select().from(memberScores).where(eq(memberScores.memberId, memberId));
  const card = await activeCardOf(deps, memberId);
  const recent = await db.select().from(interactions).where(eq(interactions.memberId, memberId)).orderBy(desc(interactions.occurredAt), desc(interactions.id)).limit(RECENT_INTERACTIONS);
  const offers = await memberOffers(deps, actor, memberId);
  const inSegments = await db
    .select({ segmentId: segments.id, name: segments.name, enteredAt: segmentMembers.enteredAt })
    .from(segmentMembers)
    .innerJoin(segments, eq(segments.id, segmentMembers.segmentId))
    .where(eq(segmentMembers.memberId, memberId))
    .orderBy(segments.name);
  const purchases = profile?.purchaseCount ?? 0;
  return {
    member,
    card: card ? { number: card.number, status: card.status, issuedAt: isoTimeOrNull(card.issuedAt) } : null,
    balance: await balanceView(deps, memberId),
    profile: {
      firstPurchaseAt: isoTimeOrNull(profile?.firstPurchaseAt),
      lastPurchaseAt: isoTimeOrNull(profile?.lastPurchaseAt),
      purchaseCount: purchases,
      purchaseDays: profile?.purchaseDays ?? 0,
      monetaryMinor: profile?.monetaryMinor ?? 0,
      averageBasketMinor: purchases > 0 ? Math.round((profile?.monetaryMinor ?? 0) / purchases) : null,
      refundCount: profile?.refundCount ?? 0,
      points: { earned: profile?.pointsEarned ?? 0, redeemed: profile?.pointsRedeemed ?? 0, expired: profile?.pointsExpired ?? 0 },
      offersUsed: profile?.offersUsed ?? 0,
      interactionCount: profile?.interactionCount ?? 0,
      lastInteractionAt: isoTimeOrNull(profile?.lastInteractionAt),
      lastContactAt: isoTimeOrNull(profile?.lastContactAt),
      satisfaction: profile && profile.satisfactionCount > 0 ? Math.round((profile.satisfactionSum / profile.satisfactionCount) * 100) / 100 : null,
      favouritePartners: (await favourites(deps, memberId, "partner")).map(({ name, ...rest }) => ({ partnerId: name, ...rest })),
      favouriteCategories: (await favourites(deps, memberId, "category")).map(({ name, ...rest }) => ({ category: name, ...rest })),
    },
    scores: scores
      ? {
          rfm: scores.r === null ? null : { r: scores.r, f: scores.f, m: scores.m, segment: scores.rfmSegment },
          pAlive: scores.pAlive,
          expectedPurchases: scores.expectedPurchases,
          clvMinor: scores.clvMinor,
          lifecycle: scores.lifecycle,
          scoredAt: isoTimeOrNull(scores.scoredAt),
        }
      : null,
    recentInteractions: recent.map((i) => ({
      id: i.id,
      kind: i.kind,
      channel: i.channel,
      partnerId: i.partnerId,
      amountMinor: i.amountMinor,
      points: i.points,
      reference: i.reference,
      occurredAt: isoTimeOrNull(i.occurredAt)!,
    })),
    segments: inSegments.map((s) => ({ segmentId: s.segmentId, name: s.name, enteredAt: isoTimeOrNull(s.enteredAt)! })),
    bestOffers: offers.items.slice(0, 3),
  };
}
