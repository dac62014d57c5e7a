/** /v1/members/{memberId}/profile: the customer 360 view, audited for every staff read. */
import { createRoute, z } from "@hono/zod-openapi";
import { invalidField } from "../../errors.ts";
import { errorResponses } from "../shared/problem.ts";
import { customer360, profileReadReasons } from "../../services/customers/customer-360.ts";
import { allow, assertSelfOrStaff, bearer, createRouter, json, MemberParams } from "../shared/common.ts";
import { OfferSchema } from "../offers/offers.ts";
import { MemberSchema } from "../members/schemas.ts";

const Iso = z.string().nullable();
const Favourite = z.object({ purchases: z.number().int(), amountMinor: z.number().int() });

const ProfileSchema = z
  .object({
    member: MemberSchema,
    card: z.object({ number: z.string(), status: z.string(), issuedAt: Iso }).nullable(),
    balance: z.object({ available: z.number().int(), pending: z.number().int() }),
    profile: z.object({
      firstPurchaseAt: Iso,
      lastPurchaseAt: Iso,
      purchaseCount: z.number().int(),
      purchaseDays: z.number().int().openapi({ description: "Days with a purchase (same-day purchases merged)" }),
      monetaryMinor: z.number().int().openapi({ description: "Spent after offers, net of refunds" }),
      averageBasketMinor: z.number().int().nullable(),
      refundCount: z.number().int(),
      points: z.object({ earned: z.number().int(), redeemed: z.number().int(), expired: z.number().int() }),
      offersUsed: z.number().int(),
      interactionCount: z.number().int(),
      lastInteractionAt: Iso,
      lastContactAt: Iso,
      satisfaction: z.number().nullable().openapi({ description: "Average score, 1–5" }),
      favouritePartners: z.array(Favourite.extend({ partnerId: z.string() })),
      favouriteCategories: z.array(Favourite.extend({ category: z.string() })),
    }),
    scores: z
      .object({
        rfm: z.object({ r: z.number().int().nullable(), f: z.number().int().nullable(), m: z.number().int().nullable(), segment: z.string().nullable() }).nullable(),
        pAlive: z.number().nullable(),
        expectedPurchases: z.number().nullable(),
        clvMinor: z.number().int().nullable(),
        lifecycle: z.string(),
        scoredAt: Iso,
      })
      .nullable()
      .openapi({ description: "From the last recompute; null until the member has been scored" }),
    recentInteractions: z.array(
      z.object({
        id: z.string(),
        kind: z.string(),
        channel: z.string(),
        partnerId: z.string().nullable(),
        amountMinor: z.number().int().nullable(),
        points: z.number().int().nullable(),
        reference: z.string().nullable(),
        occurredAt: z.string(),
      }),
    ),
    segments: z.array(z.object({ segmentId: z.string(), name: z.string(), enteredAt: z.string() })).openapi({ description: "The segments the member is in, as of their last refresh" }),
    bestOffers: z.array(OfferSchema),
  })
  .openapi("CustomerProfile");

const ReasonQuery = z.object({
  reason: z.enum(profileReadReasons).optional().openapi({ description: "Why staff open the profile (required for staff; recorded in the audit log)" }),
});

export const profilesRouter = createRouter().openapi(
  createRoute({
    method: "get",
    path: "/v1/members/{memberId}/profile",
    tags: ["Customers"],
    summary: "The customer 360 view: member, card, points, profile facts, favourites, interactions, scores, best offers",
    security: bearer,
    middleware: allow("admin", "marketer", "member"),
    request: { params: MemberParams, query: ReasonQuery },
    responses: { 200: json(ProfileSchema, "The profile"), ...errorResponses(401, 403, 404) },
  }),
  async (c) => {
    const { memberId } = c.req.valid("param");
    const { reason } = c.req.valid("query");
    const principal = c.var.principal;
    assertSelfOrStaff(principal, memberId);
    if (principal.role !== "member" && reason === undefined) {
      throw invalidField("reason", `One of ${profileReadReasons.join(", ")}`, "Say why you open this profile: every staff read is recorded.");
    }
    return c.json(await customer360(c.var.deps, principal, memberId, reason), 200);
  },
);
