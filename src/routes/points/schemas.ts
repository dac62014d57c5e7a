/** Points' answers and the manual adjustment. */
import { z } from "@hono/zod-openapi";

export const BalanceSchema = z
  .object({
    available: z.number().int(),
    pending: z.number().int(),
    owed: z.number().int().openapi({ description: "Points owed after a refund of spent points; repaid from future earning" }),
    expiring: z.array(z.object({ points: z.number().int(), expiresAt: z.string() })),
  })
  .openapi("Balance");

export const LedgerItemSchema = z
  .object({
    id: z.string(),
    kind: z.enum(["purchase", "refund", "void", "expire", "release", "adjust"]),
    reasonCode: z.string(),
    description: z.string(),
    points: z.number().int().openapi({ description: "Change to available points" }),
    pendingPoints: z.number().int(),
    owedPoints: z.number().int(),
    partnerId: z.string().nullable(),
    purchaseId: z.string().nullable(),
    correctsTransactionId: z.string().nullable(),
    occurredAt: z.string(),
    recordedAt: z.string(),
  })
  .openapi("LedgerItem");

export const AdjustmentSchema = z
  .object({
    points: z.number().int().min(-1e9).max(1e9).refine((n) => n !== 0, "Must not be zero"),
    reason: z.string().trim().min(3, "Say why (at least 3 characters)").max(500),
  })
  .strict()
  .openapi("Adjustment");

export const AdjustmentResultSchema = z
  .object({ transactionId: z.string(), memberId: z.string(), points: z.number().int(), reason: z.string(), balance: z.object({ available: z.number().int(), pending: z.number().int() }) })
  .openapi("AdjustmentResult");
