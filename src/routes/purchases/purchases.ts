/** /v1/purchases: a partner's till records sales that earn and redeem points, and refunds them. */
import { createRoute } from "@hono/zod-openapi";
import { invalidField } from "../../errors.ts";
import { errorResponses } from "../shared/problem.ts";
import { partnerActingFor, type Principal } from "../../domain/principal.ts";
import { findPurchase, purchaseView } from "../../services/purchases/find.ts";
import { quotePurchase } from "../../services/purchases/quote.ts";
import { allow, bearer, createRouter, json, jsonBody, PurchaseParams } from "../shared/common.ts";
import { IdempotencyHeader, moved } from "../shared/idempotent.ts";
import { PurchaseQuoteSchema, PurchaseRecordSchema, PurchaseResultSchema, PurchaseSchema, RefundResultSchema, RefundSchema, type PurchaseBody } from "./schemas.ts";


/** The partner a sale is for: a partner key's own, or the one staff must name. */
function partnerOfSale(principal: Principal, named: string | undefined): string {
  const partnerId = partnerActingFor(principal, named);
  if (!partnerId) throw invalidField("partnerId", "Required for staff", "Staff must say which partner the purchase is for.");
  return partnerId;
}

/**
 * The body an Idempotency-Key is held to, without the PIN: the key's record keeps a plain SHA-256
 * of it, from which a 4–6 digit PIN would be found in a moment. A retry of the sale with the PIN
 * entered again is the same request.
 */
function fingerprinted(body: PurchaseBody) {
  return "pin" in body.card ? { ...body, card: { number: body.card.number } } : body;
}

export const purchasesRouter = createRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/purchases/quote",
      tags: ["Purchases"],
      summary: "What a purchase would give — offers, points usable, points earned, payable — without recording it",
      description:
        "Takes the same body as POST /v1/purchases and runs the same rules; the card token is not used up. A PIN sent with a typed number is checked as the purchase checks it, and counts towards its attempt limit.",
      security: bearer,
      middleware: allow("partner", "admin", { scope: "purchases:write" }),
      request: jsonBody(PurchaseSchema),
      responses: { 200: json(PurchaseQuoteSchema, "The quote"), ...errorResponses(401, 403, 404, 409, 422) },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const partnerId = partnerOfSale(c.var.principal, body.partnerId);
      return c.json(await quotePurchase(c.var.deps, c.var.principal, { ...body, partnerId }), 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/purchases",
      tags: ["Purchases"],
      summary: "Record a purchase: earn and redeem points in one atomic call",
      description:
        "Spending points on a typed card number needs the member's PIN (card.pin) unless the program allows it (redemption.allowTypedNumber): member_presence_required. A wrong PIN is pin_invalid; after 5 in a row it is pin_locked until the member sets a new one.",
      security: bearer,
      middleware: allow("partner", "admin", { scope: "purchases:write" }),
      request: { headers: IdempotencyHeader, ...jsonBody(PurchaseSchema) },
      responses: { 201: json(PurchaseResultSchema, "Recorded"), ...errorResponses(401, 403, 404, 409, 422) },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const partnerId = partnerOfSale(c.var.principal, body.partnerId);
      return moved(c, { name: "recordPurchase", args: { actor: c.var.principal, input: { ...body, partnerId } }, status: 201, fingerprint: fingerprinted(body) });
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/purchases/{purchaseId}",
      tags: ["Purchases"],
      summary: "Read a purchase (a partner sees only its own)",
      security: bearer,
      middleware: allow("partner", "admin", "marketer"),
      request: { params: PurchaseParams },
      responses: { 200: json(PurchaseRecordSchema, "The purchase"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => c.json(purchaseView(await findPurchase(c.var.deps, c.var.principal, c.req.valid("param").purchaseId)), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/purchases/{purchaseId}/refunds",
      tags: ["Purchases"],
      summary: "Refund part of a purchase: earned points clawed back, redeemed points restored, pro rata",
      security: bearer,
      middleware: allow("partner", "admin", { scope: "purchases:write" }),
      request: { params: PurchaseParams, headers: IdempotencyHeader, ...jsonBody(RefundSchema) },
      responses: { 201: json(RefundResultSchema, "Refunded"), ...errorResponses(401, 403, 404, 409, 422) },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const { purchaseId } = c.req.valid("param");
      return moved(c, { name: "refundPurchase", args: { actor: c.var.principal, purchaseId, request: body }, status: 201, fingerprint: body });
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/purchases/{purchaseId}/void",
      tags: ["Purchases"],
      summary: "Void a purchase: refund everything that is left",
      security: bearer,
      middleware: allow("partner", "admin", { scope: "purchases:write" }),
      request: { params: PurchaseParams, headers: IdempotencyHeader },
      responses: { 201: json(RefundResultSchema, "Voided"), ...errorResponses(401, 403, 404, 409) },
    }),
    async (c) => {
      const { purchaseId } = c.req.valid("param");
      return moved(c, { name: "refundPurchase", args: { actor: c.var.principal, purchaseId, request: { void: true } }, status: 201, fingerprint: {} });
    },
  );
