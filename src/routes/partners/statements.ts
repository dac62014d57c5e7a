/** Monthly settlement statements per partner: JSON, or CSV for the accounts department. */
import { createRoute, z } from "@hono/zod-openapi";
import { accepts } from "hono/accepts";
import { AppError } from "../../errors.ts";
import { errorResponses } from "../shared/problem.ts";
import { toCsv, type CsvField } from "../../lib/csv.ts";
import type { Principal } from "../../domain/principal.ts";
import { partnerStatement, type Statement } from "../../services/partners/settlement.ts";
import { allow, bearer, createRouter, PartnerParams } from "../shared/common.ts";

const StatementParams = PartnerParams.extend({
  month: z
    .string()
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/, "Use YYYY-MM")
    .refine((v) => v >= "2000-01", "Must be 2000-01 or later")
    .openapi({ param: { name: "month", in: "path" }, example: "2026-03", description: "A month in the program's time zone" }),
});

const int = () => z.number().int();
const PointsSchema = z.object({ issued: int(), reversed: int(), redeemed: int(), restored: int() }).openapi("SettlementPoints");
const AmountsSchema = z
  .object({
    issuanceChargeMinor: int(),
    reversalCreditMinor: int(),
    redemptionReimbursementMinor: int(),
    restorationChargeMinor: int(),
    partnerFundedDiscountsMinor: int(),
    partnerFundedDiscountsReversedMinor: int(),
    operatorFundedDiscountsMinor: int(),
    operatorFundedDiscountsReversedMinor: int(),
  })
  .openapi("SettlementAmounts", { description: "Minor units of the program's currency, each ≥ 0" });
const NetSchema = int().openapi({ description: "Positive: the partner owes the operator; negative: the operator owes the partner" });

const StatementLineSchema = z
  .object({
    txnId: z.string(),
    bookedAt: z.string(),
    kind: z.enum(["purchase", "refund", "void"]),
    purchaseId: z.string(),
    receiptId: z.string(),
    storeId: z.string().nullable(),
    pointCostMilli: int().openapi({ description: "The purchase's cost per issued point, in thousandths of a minor unit" }),
    redemptionRateMilli: int().openapi({ description: "The purchase's reimbursement per redeemed point, in thousandths of a minor unit" }),
    points: PointsSchema,
    amounts: AmountsSchema,
    netMinor: NetSchema,
  })
  .openapi("StatementLine");

const StatementSchema = z
  .object({
    partnerId: z.string(),
    partnerName: z.string(),
    month: z.string(),
    currency: z.string(),
    from: z.string().openapi({ description: "The month's first instant (inclusive)" }),
    to: z.string().openapi({ description: "The next month's first instant (exclusive)" }),
    status: z.enum(["open", "closed"]).openapi({ description: "closed once the month is over; a closed statement never changes" }),
    points: PointsSchema,
    amounts: AmountsSchema,
    netMinor: NetSchema,
    lines: z.array(StatementLineSchema).openapi({ description: "One per ledger transaction booked in the month, oldest first; the totals are their sums" }),
  })
  .openapi("Statement");

/** Staff read any partner's statements; a key (with the scope: see the route) only its own partner's. */
function assertMayRead(principal: Principal, partnerId: string) {
  // Another partner's statements do not exist for this key.
  if (principal.role === "partner" && principal.partnerId !== partnerId) throw new AppError("not_found", `No partner ${partnerId}.`);
}

const CSV_HEADER = [
  "bookedAt",
  "kind",
  "txnId",
  "purchaseId",
  "receiptId",
  "storeId",
  "pointCostMilli",
  "redemptionRateMilli",
  "pointsIssued",
  "pointsReversed",
  "pointsRedeemed",
  "pointsRestored",
  "issuanceChargeMinor",
  "reversalCreditMinor",
  "redemptionReimbursementMinor",
  "restorationChargeMinor",
  "partnerFundedDiscountsMinor",
  "partnerFundedDiscountsReversedMinor",
  "operatorFundedDiscountsMinor",
  "operatorFundedDiscountsReversedMinor",
  "netMinor",
];

/** A header row, one row per line, then the totals in a row whose kind is "total". */
function statementCsv(statement: Statement): string {
  const figures = (s: Pick<Statement, "points" | "amounts" | "netMinor">): CsvField[] => [
    s.points.issued,
    s.points.reversed,
    s.points.redeemed,
    s.points.restored,
    s.amounts.issuanceChargeMinor,
    s.amounts.reversalCreditMinor,
    s.amounts.redemptionReimbursementMinor,
    s.amounts.restorationChargeMinor,
    s.amounts.partnerFundedDiscountsMinor,
    s.amounts.partnerFundedDiscountsReversedMinor,
    s.amounts.operatorFundedDiscountsMinor,
    s.amounts.operatorFundedDiscountsReversedMinor,
    s.netMinor,
  ];
  return toCsv([
    CSV_HEADER,
    ...statement.lines.map((l) => [l.bookedAt, l.kind, l.txnId, l.purchaseId, l.receiptId, l.storeId, l.pointCostMilli, l.redemptionRateMilli, ...figures(l)]),
    [null, "total", null, null, null, null, null, null, ...figures(statement)],
  ]);
}

export const statementsRouter = createRouter().openapi(
  createRoute({
    method: "get",
    path: "/v1/partners/{partnerId}/statements/{month}",
    tags: ["Settlement"],
    summary: "A partner's settlement statement for a month (Accept: text/csv for CSV)",
    description:
      "Points issued, reversed, redeemed and restored, what they cost or earn at the rates of each purchase, and offer discounts, for the transactions booked in the month in the program's time zone. Money per line is round-half-up(points × rateMilli / 1000); totals are sums of lines. A month that has not begun is a 400.",
    security: bearer,
    middleware: allow("admin", "marketer", "partner", { scope: "statements:read" }),
    request: { params: StatementParams },
    responses: {
      200: {
        description: "The statement",
        content: {
          "application/json": { schema: StatementSchema },
          "text/csv": { schema: z.string().openapi({ description: "A header row, one row per line, then a totals row (kind = total); RFC 4180, UTF-8" }) },
        },
      },
      ...errorResponses(401, 403, 404),
    },
  }),
  async (c) => {
    const { partnerId, month } = c.req.valid("param");
    assertMayRead(c.var.principal, partnerId);
    const statement = await partnerStatement(c.var.deps, partnerId, month);
    const type = accepts(c, { header: "Accept", supports: ["application/json", "text/csv"], default: "application/json" });
    if (type === "text/csv") {
      const filename = `statement-${partnerId.replace(/[^\w-]/g, "_")}-${month}.csv`;
      return c.body(statementCsv(statement), 200, {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": `attachment; filename="${filename}"`,
        vary: "Accept",
      });
    }
    return c.json(statement, 200, { vary: "Accept" });
  },
);
