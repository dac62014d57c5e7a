/**
 * /v1/partners/{partnerId}/stores: a partner's stores. Admins manage them; staff read them; a
 * partner key reads its own partner's only (another partner's are a 404, as if they did not exist).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { errorResponses } from "../shared/problem.ts";
import { createStore, getStore, listStores, updateStore } from "../../services/partners/stores.ts";
import { allow, bearer, createRouter, IdParam, json, jsonBody, pageOf, PageQuerySchema, PartnerParams } from "../shared/common.ts";
import { StoreSchema } from "./schemas.ts";

const StoreParams = PartnerParams.extend({ storeId: IdParam("storeId", "sto_01JD0000000000000000000000") });

const StoreNameSchema = z.string().trim().min(1).max(100).openapi({ example: "별빛시네마 강남점" });
const AddressSchema = z.string().trim().min(1).max(300).nullish().openapi({ example: "서울 강남구 강남대로 438" });
const LatitudeSchema = z.number().min(-90).max(90).nullish().openapi({ example: 37.5006, description: "WGS 84 degrees; given together with longitude" });
const LongitudeSchema = z.number().min(-180).max(180).nullish().openapi({ example: 127.0264, description: "WGS 84 degrees; given together with latitude" });

/** Latitude and longitude come as a pair: both numbers, both null (cleared), or both left out. */
function coordinatesTogether(v: { latitude?: number | null | undefined; longitude?: number | null | undefined }, ctx: z.RefinementCtx) {
  const missing = (a: number | null | undefined, b: number | null | undefined) => (a === undefined && b !== undefined) || (a === null && b !== null && b !== undefined);
  const message = "Give latitude and longitude together";
  if (missing(v.latitude, v.longitude)) ctx.addIssue({ code: "custom", path: ["latitude"], message });
  if (missing(v.longitude, v.latitude)) ctx.addIssue({ code: "custom", path: ["longitude"], message });
}

export const CreateStoreSchema = z
  .object({
    code: z
      .string()
      .trim()
      .min(1)
      .max(32)
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "Letters, digits, '.', '_' and '-', starting with a letter or digit")
      .openapi({ example: "GN-01", description: "The partner's own code for the store, unique per partner" }),
    name: StoreNameSchema,
    address: AddressSchema,
    latitude: LatitudeSchema,
    longitude: LongitudeSchema,
  })
  .strict()
  .superRefine(coordinatesTogether)
  .openapi("CreateStore");

export const UpdateStoreSchema = z
  .object({
    name: StoreNameSchema.optional(),
    address: AddressSchema,
    latitude: LatitudeSchema,
    longitude: LongitudeSchema,
    status: z.enum(["active", "closed"]).optional().openapi({ description: "A closed store takes no new purchases" }),
  })
  .strict()
  .superRefine(coordinatesTogether)
  .refine((v) => Object.keys(v).length > 0, "Nothing to change")
  .openapi("UpdateStore");

export type CreateStoreBody = z.infer<typeof CreateStoreSchema>;
export type UpdateStoreBody = z.infer<typeof UpdateStoreSchema>;

export const storesRouter = createRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/partners/{partnerId}/stores",
      tags: ["Stores"],
      summary: "Add a store to a partner",
      security: bearer,
      middleware: allow("admin"),
      request: { params: PartnerParams, ...jsonBody(CreateStoreSchema) },
      responses: { 201: json(StoreSchema, "Created"), ...errorResponses(401, 403, 404, 409) },
    }),
    async (c) => c.json(await createStore(c.var.deps, c.var.principal, c.req.valid("param").partnerId, c.req.valid("json")), 201),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/partners/{partnerId}/stores",
      tags: ["Stores"],
      summary: "List a partner's stores (a partner key lists only its own)",
      security: bearer,
      middleware: allow("admin", "marketer", "partner"),
      request: { params: PartnerParams, query: PageQuerySchema },
      responses: { 200: json(pageOf(StoreSchema, "StorePage"), "A page of stores"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => c.json(await listStores(c.var.deps, c.var.principal, c.req.valid("param").partnerId, c.req.valid("query")), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/partners/{partnerId}/stores/{storeId}",
      tags: ["Stores"],
      summary: "Read a store (a partner key reads only its own partner's)",
      security: bearer,
      middleware: allow("admin", "marketer", "partner"),
      request: { params: StoreParams },
      responses: { 200: json(StoreSchema, "The store"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { partnerId, storeId } = c.req.valid("param");
      return c.json(await getStore(c.var.deps, c.var.principal, partnerId, storeId), 200);
    },
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/v1/partners/{partnerId}/stores/{storeId}",
      tags: ["Stores"],
      summary: "Change a store's name, address, coordinates or status (close / reopen)",
      security: bearer,
      middleware: allow("admin"),
      request: { params: StoreParams, ...jsonBody(UpdateStoreSchema) },
      responses: { 200: json(StoreSchema, "The updated store"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { partnerId, storeId } = c.req.valid("param");
      return c.json(await updateStore(c.var.deps, c.var.principal, partnerId, storeId, c.req.valid("json")), 200);
    },
  );
