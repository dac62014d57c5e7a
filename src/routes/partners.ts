/** /v1/partners: partner merchants and their API keys. A partner key sees only its own partner. */
import { createRoute, z } from "@hono/zod-openapi";
import { AppError, errorResponses } from "../errors.ts";
import { createPartner, createPartnerKey, getPartner, listPartnerKeys, listPartners, partnerScopes, revokePartnerKey } from "../services/partners.ts";
import { allow, bearer, createRouter, IdParam, json, jsonBody, pageOf, PageQuerySchema } from "./common.ts";
import { PartnerKeySchema, PartnerSchema } from "./schemas.ts";

const PartnerParams = z.object({ partnerId: IdParam("partnerId", "prt_01JD0000000000000000000000") });

const CreatePartnerSchema = z
  .object({
    name: z.string().trim().min(1).max(100).openapi({ example: "CGV 강남" }),
    category: z.string().trim().min(1).max(50).openapi({ example: "cinema" }),
  })
  .strict()
  .openapi("CreatePartner");

const CreateKeySchema = z
  .object({
    name: z.string().trim().min(1).max(100).openapi({ example: "Gangnam POS 1" }),
    scopes: z.array(z.enum(partnerScopes)).min(1).default(["cards:verify", "purchases:write"]),
  })
  .strict()
  .openapi("CreatePartnerKey");

export const partnersRouter = createRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/partners",
      tags: ["Partners"],
      summary: "Create a partner merchant",
      security: bearer,
      middleware: allow("admin"),
      request: jsonBody(CreatePartnerSchema),
      responses: { 201: json(PartnerSchema, "Created"), ...errorResponses(401, 403) },
    }),
    async (c) => c.json(await createPartner(c.var.deps, c.var.principal, c.req.valid("json")), 201),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/partners",
      tags: ["Partners"],
      summary: "List partners",
      security: bearer,
      middleware: allow("admin", "marketer"),
      request: { query: PageQuerySchema },
      responses: { 200: json(pageOf(PartnerSchema, "PartnerPage"), "A page of partners"), ...errorResponses(401, 403) },
    }),
    async (c) => c.json(await listPartners(c.var.deps, c.req.valid("query")), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/partners/{partnerId}",
      tags: ["Partners"],
      summary: "Read a partner (a partner key reads only its own)",
      security: bearer,
      middleware: allow("admin", "marketer", "partner"),
      request: { params: PartnerParams },
      responses: { 200: json(PartnerSchema, "The partner"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { partnerId } = c.req.valid("param");
      const principal = c.var.principal;
      if (principal.role === "partner" && principal.partnerId !== partnerId) {
        throw new AppError("forbidden", "A partner key reads only its own partner.");
      }
      return c.json(await getPartner(c.var.deps, partnerId), 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/partners/{partnerId}/keys",
      tags: ["Partners"],
      summary: "Create an API key; the key is in this response only",
      security: bearer,
      middleware: allow("admin"),
      request: { params: PartnerParams, ...jsonBody(CreateKeySchema) },
      responses: {
        201: json(PartnerKeySchema.extend({ key: z.string().openapi({ description: "Shown once; store it now" }) }), "Created"),
        ...errorResponses(401, 403, 404),
      },
    }),
    async (c) => {
      const { partnerId } = c.req.valid("param");
      return c.json(await createPartnerKey(c.var.deps, c.var.principal, partnerId, c.req.valid("json")), 201, { "cache-control": "no-store" });
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/partners/{partnerId}/keys",
      tags: ["Partners"],
      summary: "List a partner's API keys (never the keys themselves)",
      security: bearer,
      middleware: allow("admin"),
      request: { params: PartnerParams, query: PageQuerySchema },
      responses: { 200: json(pageOf(PartnerKeySchema, "PartnerKeyPage"), "The keys"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => c.json(await listPartnerKeys(c.var.deps, c.req.valid("param").partnerId, c.req.valid("query")), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/partners/{partnerId}/keys/{keyId}/revoke",
      tags: ["Partners"],
      summary: "Revoke an API key at once",
      security: bearer,
      middleware: allow("admin"),
      request: { params: PartnerParams.extend({ keyId: IdParam("keyId", "pk_01JD0000000000000000000000") }) },
      responses: { 200: json(PartnerKeySchema, "Revoked"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { partnerId, keyId } = c.req.valid("param");
      return c.json(await revokePartnerKey(c.var.deps, c.var.principal, partnerId, keyId), 200);
    },
  );
