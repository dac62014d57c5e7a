/** /v1/cards: reading and managing cards, and card presentment at a partner's till. */
import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../../errors.ts";
import { errorResponses } from "../shared/problem.ts";
import { verifyPresentment } from "../../services/cards/card-tokens.ts";
import { blockCard, findCardByNumber, getCard, replaceCard, unblockCard } from "../../services/cards/cards.ts";
import type { Context } from "hono";
import { allow, assertSelfOrStaff, bearer, createRouter, json, jsonBody, type AppEnv } from "../shared/common.ts";
import { CardNumberParam, CardSchema, PosSummarySchema, VerifyCardSchema } from "./schemas.ts";

const CardParams = z.object({ cardNumber: CardNumberParam });

const BlockSchema = z
  .object({ reason: z.enum(["blocked", "lost"]).default("blocked").openapi({ description: "'lost' cannot be unblocked, only replaced" }) })
  .strict()
  .openapi("BlockCard");

/**
 * The card a caller may act on. Members learn nothing about other cards, not even whether a
 * number exists: an unknown number and someone else's card are both 403 to them.
 */
async function cardFor(c: Context<AppEnv>, cardNumber: string) {
  const principal = c.var.principal;
  try {
    const card = await findCardByNumber(c.var.deps, cardNumber);
    assertSelfOrStaff(principal, card.memberId);
    return card;
  } catch (error) {
    if (principal.role === "member" && error instanceof AppError && error.code === "card_not_found") {
      throw new AppError("forbidden", "Members may only see their own cards.");
    }
    throw error;
  }
}

export const cardsRouter = createRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/cards/verify",
      tags: ["Cards"],
      summary: "Verify a presented card (QR token or typed number) and get the POS summary",
      security: bearer,
      middleware: allow("partner", "admin", { scope: "cards:verify" }),
      request: jsonBody(VerifyCardSchema),
      responses: { 200: json(PosSummarySchema, "The card is good"), ...errorResponses(401, 403, 404, 409, 422) },
    }),
    async (c) => c.json(await verifyPresentment(c.var.deps, c.var.principal, c.req.valid("json")), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/cards/{cardNumber}",
      tags: ["Cards"],
      summary: "Read a card",
      security: bearer,
      middleware: allow("admin", "marketer", "member"),
      request: { params: CardParams },
      responses: { 200: json(CardSchema, "The card"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { cardNumber } = c.req.valid("param");
      await cardFor(c, cardNumber);
      return c.json(await getCard(c.var.deps, cardNumber), 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/cards/{cardNumber}/block",
      tags: ["Cards"],
      summary: "Block a card, or report it lost",
      security: bearer,
      middleware: allow("admin", "member"),
      request: { params: CardParams, body: { content: { "application/json": { schema: BlockSchema } }, required: false } },
      responses: { 200: json(CardSchema, "The blocked card"), ...errorResponses(401, 403, 404, 409) },
    }),
    async (c) => {
      const { cardNumber } = c.req.valid("param");
      await cardFor(c, cardNumber);
      // The body is optional: without one the card is blocked, not reported lost.
      const body = c.req.valid("json") as z.infer<typeof BlockSchema> | undefined;
      return c.json(await blockCard(c.var.deps, c.var.principal, cardNumber, body?.reason ?? "blocked"), 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/cards/{cardNumber}/unblock",
      tags: ["Cards"],
      summary: "Unblock a blocked card (lost cards are replaced instead)",
      security: bearer,
      middleware: allow("admin"),
      request: { params: CardParams },
      responses: { 200: json(CardSchema, "The active card"), ...errorResponses(401, 403, 404, 409) },
    }),
    async (c) => c.json(await unblockCard(c.var.deps, c.var.principal, c.req.valid("param").cardNumber), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/cards/{cardNumber}/replace",
      tags: ["Cards"],
      summary: "Replace a card: the old number dies, balance and history stay with the member",
      security: bearer,
      middleware: allow("admin"),
      request: { params: CardParams },
      responses: { 201: json(CardSchema, "The new card"), ...errorResponses(401, 403, 404, 409) },
    }),
    async (c) => c.json(await replaceCard(c.var.deps, c.var.principal, c.req.valid("param").cardNumber), 201),
  );
