/** Cards' requests and answers: the card, its number, what the till sees on verifying it and the QR token. */
import { z } from "@hono/zod-openapi";

export const CardSchema = z
  .object({
    number: z.string().openapi({ example: "9410123456789015" }),
    memberId: z.string(),
    status: z.enum(["active", "blocked", "lost", "replaced"]),
    replacedBy: z.string().nullable().openapi({ description: "The successor's number once replaced" }),
    issuedAt: z.string(),
    statusChangedAt: z.string(),
  })
  .openapi("Card");

export const CardNumberParam = z
  .string()
  .regex(/^\d{16}$/, "A card number is 16 digits")
  .openapi({ param: { name: "cardNumber", in: "path" }, example: "9410123456789015" });

export const PosSummarySchema = z
  .object({
    memberId: z.string(),
    cardNumber: z.string(),
    displayName: z.string().openapi({ example: "김*준" }),
    tier: z.string(),
    balance: z.object({ available: z.number().int() }),
    offers: z
      .array(
        z.object({
          id: z.string(),
          name: z.string(),
          kind: z.enum(["percent", "amount", "points_reward"]),
          minSpendMinor: z.number().int(),
          stackable: z.boolean(),
          pointsCost: z.number().int(),
        }),
      )
      .openapi({ description: "Offers the member can use at this till now (the basket decides minimum spend and categories)" }),
  })
  .openapi("PosSummary");

export const VerifyCardSchema = z
  .union([
    z.object({ token: z.string().min(1).max(2048) }).strict(),
    z.object({ cardNumber: z.string().min(1).max(32) }).strict(),
  ])
  .openapi("VerifyCard", { description: "Either the scanned QR token or a card number typed by hand" });

export const CardTokenSchema = z
  .object({ token: z.string(), expiresAt: z.string(), cardNumber: z.string() })
  .openapi("CardToken");

export type Card = z.infer<typeof CardSchema>;
export type PosSummary = z.infer<typeof PosSummarySchema>;
export type VerifyCardBody = z.infer<typeof VerifyCardSchema>;
