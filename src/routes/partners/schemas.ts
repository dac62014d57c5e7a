/** Partners' answers: the partner, its stores and its API keys. */
import { z } from "@hono/zod-openapi";

export const PartnerSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    category: z.string(),
    status: z.enum(["active", "suspended"]).openapi({ description: "A suspended partner's API keys are refused" }),
    contact: z.object({ name: z.string().nullable(), email: z.string().nullable(), phone: z.string().nullable().openapi({ description: "E.164" }) }),
    settlement: z
      .object({
        pointCostMilli: z.number().int().openapi({ description: "What the partner pays per point it issues, in thousandths of a minor unit (1000 = ₩1)" }),
        redemptionRateMilli: z.number().int().openapi({ description: "What the partner is reimbursed per point spent there, in thousandths of a minor unit" }),
      })
      .openapi({ description: "Rates apply to purchases made after they are set; each purchase keeps the rates it was made under" }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Partner");

export const StoreSchema = z
  .object({
    id: z.string().openapi({ example: "sto_01JD0000000000000000000000" }),
    partnerId: z.string(),
    code: z.string().openapi({ example: "GN-01", description: "The partner's own code for the store, unique per partner" }),
    name: z.string(),
    address: z.string().nullable(),
    latitude: z.number().nullable(),
    longitude: z.number().nullable(),
    status: z.enum(["active", "closed"]).openapi({ description: "A closed store takes no new purchases" }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Store");

export const PartnerKeySchema = z
  .object({
    id: z.string(),
    partnerId: z.string(),
    name: z.string(),
    prefix: z.string().openapi({ description: "The first characters, to tell keys apart" }),
    scopes: z.array(z.string()),
    createdAt: z.string(),
    revokedAt: z.string().nullable(),
  })
  .openapi("PartnerKey");

export type Partner = z.infer<typeof PartnerSchema>;
export type Store = z.infer<typeof StoreSchema>;
