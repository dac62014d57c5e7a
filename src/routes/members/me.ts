/** /v1/me: the signed-in member's own record and QR card. */
import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../../errors.ts";
import { errorResponses } from "../shared/problem.ts";
import { qrPng, qrSvg } from "../../lib/qr.ts";
import { mintCardToken } from "../../services/cards/card-tokens.ts";
import { removeMemberPin, setMemberPin } from "../../services/members/pins.ts";
import { getMember } from "../../services/members/members.ts";
import type { Principal } from "../../domain/principal.ts";
import { allow, bearer, createRouter, json, jsonBody } from "../shared/common.ts";
import { CardTokenSchema } from "../cards/schemas.ts";
import { MemberPinSchema, MemberSchema } from "./schemas.ts";

function memberIdOf(principal: Principal): string {
  if (principal.role !== "member") throw new AppError("forbidden", "Only members have a card to show.");
  return principal.memberId;
}

const member = allow("member");
// A card token must never sit in a shared cache or the browser's history of responses.
const noStore = { "cache-control": "no-store" };

export const meRouter = createRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/me",
      tags: ["Member self-service"],
      summary: "The signed-in member",
      security: bearer,
      middleware: member,
      responses: { 200: json(MemberSchema, "You"), ...errorResponses(401, 403) },
    }),
    async (c) => c.json(await getMember(c.var.deps, memberIdOf(c.var.principal)), 200),
  )
  .openapi(
    createRoute({
      method: "put",
      path: "/v1/me/pin",
      operationId: "setMemberPin",
      tags: ["Member self-service"],
      summary: "Set or change your PIN: with a typed card number at a till, it lets points be spent (a new PIN also unlocks a locked one)",
      security: bearer,
      middleware: member,
      request: jsonBody(MemberPinSchema),
      responses: { 204: { description: "Set" }, ...errorResponses(401, 403) },
    }),
    async (c) => {
      await setMemberPin(c.var.deps, memberIdOf(c.var.principal), c.req.valid("json").pin);
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/v1/me/pin",
      operationId: "deleteMemberPin",
      tags: ["Member self-service"],
      summary: "Remove your PIN: points are then spent only with your QR card",
      security: bearer,
      middleware: member,
      responses: { 204: { description: "Removed (or there was none)" }, ...errorResponses(401, 403) },
    }),
    async (c) => {
      await removeMemberPin(c.var.deps, c.var.principal, memberIdOf(c.var.principal));
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/me/card/token",
      tags: ["Member self-service"],
      summary: "Mint a short-lived card token (EdDSA JWS, ≤ 120 s) to show as a QR code",
      security: bearer,
      middleware: member,
      responses: { 200: json(CardTokenSchema, "A fresh token"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => c.json(await mintCardToken(c.var.deps, memberIdOf(c.var.principal)), 200, noStore),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/me/card/qr.svg",
      tags: ["Member self-service"],
      summary: "A fresh card token drawn as an SVG QR code",
      security: bearer,
      middleware: member,
      responses: {
        200: { description: "QR code", content: { "image/svg+xml": { schema: z.string() } } },
        ...errorResponses(401, 403, 404),
      },
    }),
    async (c) => {
      const { token, expiresAt } = await mintCardToken(c.var.deps, memberIdOf(c.var.principal));
      return c.body(await qrSvg(token), 200, { "content-type": "image/svg+xml", "x-token-expires-at": expiresAt, ...noStore });
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/me/card/qr.png",
      tags: ["Member self-service"],
      summary: "A fresh card token drawn as a PNG QR code",
      security: bearer,
      middleware: member,
      responses: {
        200: { description: "QR code", content: { "image/png": { schema: z.string().openapi({ format: "binary" }) } } },
        ...errorResponses(401, 403, 404),
      },
    }),
    async (c) => {
      const { token, expiresAt } = await mintCardToken(c.var.deps, memberIdOf(c.var.principal));
      const png = await qrPng(token);
      return c.body(png.buffer as ArrayBuffer, 200, { "content-type": "image/png", "x-token-expires-at": expiresAt, ...noStore });
    },
  );
