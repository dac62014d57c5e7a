/**
 * /v1/partners: partner merchants — contacts, settlement rates, status — and their API keys.
 * A partner key sees only its own partner; another partner is a 404, as if it did not exist.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { errorResponses } from "../shared/problem.ts";
import { partnerScopes } from "../../domain/principal.ts";
import { createPartner, createPartnerKey, getPartner, listPartnerKeys, listPartners, revokePartnerKey, updatePartner } from "../../services/partners/partners.ts";
import { allow, bearer, createRouter, IdParam, json, jsonBody, pageOf, PageQuerySchema, PartnerParams } from "../shared/common.ts";
import { PartnerKeySchema, PartnerSchema } from "./schemas.ts";


const PartnerNameSchema = z.string().trim().min(1).max(100).openapi({ example: "CGV 강남" });
const PartnerCategorySchema = z.string().trim().min(1).max(50).openapi({ example: "cinema" });

/** Each field optional; null clears it. */
export const PartnerContactSchema = z
  .object({
    name: z.string().trim().min(1).max(100).nullish().openapi({ example: "박지현" }),
    email: z.email().max(254).nullish().openapi({ example: "partners@cgv.example", description: "Stored lowercased" }),
    phone: z.string().min(4).max(32).nullish().openapi({ example: "02-1234-5678", description: "Normalised to E.164 (Korean local format accepted)" }),
  })
  .strict()
  .openapi("PartnerContact");

const RateMilliSchema = z.number().int().min(0).max(1_000_000);

export const SettlementRatesSchema = z
  .object({
    pointCostMilli: RateMilliSchema.openapi({ example: 1000, description: "What the partner pays per point it issues, in thousandths of a minor unit (1000 = ₩1)" }),
    redemptionRateMilli: RateMilliSchema.openapi({ example: 1000, description: "What the partner is reimbursed per point spent there, in thousandths of a minor unit" }),
  })
  .strict()
  .openapi("SettlementRates");

export const CreatePartnerSchema = z
  .object({
    name: PartnerNameSchema,
    category: PartnerCategorySchema,
    contact: PartnerContactSchema.optional(),
    settlement: SettlementRatesSchema.optional().openapi({ description: "Default 1000 and 1000 (₩1 a point each way)" }),
  })
  .strict()
  .openapi("CreatePartner");

export const UpdatePartnerSchema = z
  .object({
    name: PartnerNameSchema.optional(),
    category: PartnerCategorySchema.optional(),
    contact: PartnerContactSchema.optional().openapi({ description: "Fields left out stay as they are" }),
    settlement: SettlementRatesSchema.partial()
      .strict()
      .refine((v) => Object.keys(v).length > 0, "Give pointCostMilli, redemptionRateMilli or both")
      .optional()
      .openapi({ description: "Applies to purchases made from now on; audited with the rates it replaces" }),
    status: z.enum(["active", "suspended"]).optional().openapi({ description: "Suspending refuses the partner's API keys at once" }),
  })
  .strict()
  .refine((v) => Object.keys(v).length > 0, "Nothing to change")
  .openapi("UpdatePartner");

export type CreatePartnerBody = z.infer<typeof CreatePartnerSchema>;
export type UpdatePartnerBody = z.infer<typeof UpdatePartnerSchema>;

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
    async (c) => c.json(await getPartner(c.var.deps, c.req.valid("param").partnerId, c.var.principal), 200),
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/v1/partners/{partnerId}",
      tags: ["Partners"],
      summary: "Change a partner's details, settlement rates or status (suspend / reactivate)",
      security: bearer,
      middleware: allow("admin"),
      request: { params: PartnerParams, ...jsonBody(UpdatePartnerSchema) },
      responses: { 200: json(PartnerSchema, "The updated partner"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => c.json(await updatePartner(c.var.deps, c.var.principal, c.req.valid("param").partnerId, c.req.valid("json")), 200),
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
