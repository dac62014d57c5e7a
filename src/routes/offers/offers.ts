/** /v1/offers: partners' and the operator's offers; /v1/members/{memberId}/offers: what a member can use now. */
import { createRoute, z } from "@hono/zod-openapi";
import { OfferConditionsSchema, OfferLimitsSchema, OfferRewardSchema } from "../../domain/offers.ts";
import { errorResponses } from "../shared/problem.ts";
import { createOffer, findOffer, listOffers, memberOffers, offerView, updateOffer } from "../../services/offers/offers.ts";
import { allow, assertSelfOrStaff, bearer, createRouter, json, jsonBody, MemberParams, OfferParams, pageOf, PageQuerySchema } from "../shared/common.ts";
import { NO_CONTROL_CHARACTERS } from "../shared/schemas.ts";

const Text = (max: number) => z.string().trim().min(1).max(max).regex(NO_CONTROL_CHARACTERS, "No control characters");

const CreateOfferSchema = z
  .object({
    partnerId: z.string().min(1).max(64).nullable().optional().openapi({ description: "Staff: the owning partner; omitted or null for an operator offer. A partner key always creates its own." }),
    name: Text(100).openapi({ example: "골드 회원 영화 20% 할인" }),
    description: Text(500).optional(),
    reward: OfferRewardSchema.openapi({ description: "percent (percentBps, maxDiscountMinor?), amount (amountMinor), or points_reward (pointsCost, rewardValueMinor)" }),
    conditions: OfferConditionsSchema.optional(),
    limits: OfferLimitsSchema.optional(),
    stackable: z.boolean().optional().openapi({ description: "Default true; a non-stackable offer is never combined with another" }),
    operatorFundedBps: z.number().int().min(0).max(10_000).optional().openapi({ description: "The operator's share of the discount (default: all of an operator offer, none of a partner's)" }),
    validFrom: z.iso.datetime({ offset: true }).optional(),
    validUntil: z.iso.datetime({ offset: true }).optional(),
    budget: z
      .object({ count: z.number().int().min(1).max(1e9).optional(), amountMinor: z.number().int().min(1).max(1e12).optional() })
      .strict()
      .optional()
      .openapi({ description: "Global budget: at most this many uses and this much discount, ever" }),
  })
  .strict()
  .openapi("CreateOffer");

const UpdateOfferSchema = z
  .object({
    status: z.enum(["active", "paused", "ended"]).optional(),
    validUntil: z.iso.datetime({ offset: true }).nullable().optional(),
  })
  .strict()
  .refine((v) => Object.keys(v).length > 0, "Nothing to change")
  .openapi("UpdateOffer");

export const OfferSchema = z
  .object({
    id: z.string(),
    partnerId: z.string().nullable(),
    name: z.string(),
    description: z.string().nullable(),
    status: z.enum(["active", "paused", "ended"]),
    reward: OfferRewardSchema,
    conditions: OfferConditionsSchema,
    limits: OfferLimitsSchema,
    stackable: z.boolean(),
    operatorFundedBps: z.number().int(),
    validFrom: z.string(),
    validUntil: z.string().nullable(),
    budget: z.object({ count: z.number().int().nullable(), amountMinor: z.number().int().nullable(), usedCount: z.number().int(), usedAmountMinor: z.number().int() }),
    createdAt: z.string(),
  })
  .openapi("Offer");


export const offersRouter = createRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/offers",
      tags: ["Offers"],
      summary: "Create an offer (a partner key with offers:write creates its own)",
      security: bearer,
      middleware: allow("partner", "admin", { scope: "offers:write" }),
      request: jsonBody(CreateOfferSchema),
      responses: { 201: json(OfferSchema, "Created"), ...errorResponses(401, 403, 422) },
    }),
    async (c) => c.json(await createOffer(c.var.deps, c.var.principal, c.req.valid("json")), 201),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/offers",
      tags: ["Offers"],
      summary: "List offers, newest first (a partner sees its own and the operator's)",
      security: bearer,
      middleware: allow("partner", "admin", "marketer"),
      request: { query: PageQuerySchema },
      responses: { 200: json(pageOf(OfferSchema, "OfferPage"), "A page of offers"), ...errorResponses(401, 403) },
    }),
    async (c) => c.json(await listOffers(c.var.deps, c.var.principal, c.req.valid("query")), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/offers/{offerId}",
      tags: ["Offers"],
      summary: "Read an offer, with its budget used so far",
      security: bearer,
      middleware: allow("partner", "admin", "marketer"),
      request: { params: OfferParams },
      responses: { 200: json(OfferSchema, "The offer"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => c.json(offerView(await findOffer(c.var.deps, c.var.principal, c.req.valid("param").offerId), c.var.principal), 200),
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/v1/offers/{offerId}",
      tags: ["Offers"],
      summary: "Pause, resume or end an offer, or move its end",
      security: bearer,
      middleware: allow("partner", "admin"),
      request: { params: OfferParams, ...jsonBody(UpdateOfferSchema) },
      responses: { 200: json(OfferSchema, "Updated"), ...errorResponses(401, 403, 404, 422) },
    }),
    async (c) => c.json(await updateOffer(c.var.deps, c.var.principal, c.req.valid("param").offerId, c.req.valid("json")), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/members/{memberId}/offers",
      tags: ["Offers"],
      summary: "Offers the member can use now (a partner sees those usable at its own till)",
      security: bearer,
      middleware: allow("member", "partner", "admin", "marketer"),
      request: { params: MemberParams },
      responses: { 200: json(z.object({ items: z.array(OfferSchema) }).openapi("MemberOffers"), "Usable offers"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { memberId } = c.req.valid("param");
      assertSelfOrStaff(c.var.principal, memberId);
      return c.json(await memberOffers(c.var.deps, c.var.principal, memberId), 200);
    },
  );
