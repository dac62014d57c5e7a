/**
 * Monthly settlement statements: points and money per partner and month, cut by booking time in
 * the program's time zone; closed months that never change; CSV; who may read them; and the
 * reconciliation of every partner's statements against the ledger over a month of 10,000 sales.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { SettlementAmounts, SettlementPoints } from "../../src/domain/settlement.ts";
import type { Statement as StatementOf } from "../../src/services/partners/settlement.ts";
import { createTestApp, T0, type TestApp } from "../helpers/app.ts";
import { expectLedgerBalanced, expectStatus, givenCard, givenMember, givenPartner, givenStaff, memberToken, purchase, scannedCard } from "../helpers/factories.ts";

// What the API answers is what the service builds: the test reads it with the service's own types.
type Statement = StatementOf;
type Points = SettlementPoints;
type Amounts = SettlementAmounts;

const DAY_MS = 86_400_000;
const NO_AMOUNTS: Amounts = {
  issuanceChargeMinor: 0,
  reversalCreditMinor: 0,
  redemptionReimbursementMinor: 0,
  restorationChargeMinor: 0,
  partnerFundedDiscountsMinor: 0,
  partnerFundedDiscountsReversedMinor: 0,
  operatorFundedDiscountsMinor: 0,
  operatorFundedDiscountsReversedMinor: 0,
};

let t: TestApp;

afterEach(async () => {
  if (t) await expectLedgerBalanced(t);
});

async function statementText(partnerId: string, month: string, token?: string) {
  const res = await expectStatus(await t.call("GET", `/v1/partners/${partnerId}/statements/${month}`, token === undefined ? {} : { token }), 200);
  return res.text();
}

async function statement(partnerId: string, month: string): Promise<Statement> {
  return JSON.parse(await statementText(partnerId, month)) as Statement;
}

/** A sale at the partner's till; one that spends points scans the member's QR card, as it must. */
async function buy(partner: { key: string }, card: { number: string; memberId: string }, body: Record<string, unknown>) {
  const res = await expectStatus(await purchase(t, partner, body.redeemPoints ? await scannedCard(t, card) : card, body), 201);
  return (await res.json()) as { purchaseId: string; pointsEarned: number; pointsRedeemed: number };
}

async function refund(partner: { key: string }, purchaseId: string, amountMinor: number) {
  const res = await expectStatus(await t.call("POST", `/v1/purchases/${purchaseId}/refunds`, { token: partner.key, body: { amountMinor } }), 201);
  return (await res.json()) as { refundId: string; pointsClawedBack: number; pointsRestored: number };
}

async function voidPurchase(partner: { key: string }, purchaseId: string) {
  const res = await expectStatus(await t.call("POST", `/v1/purchases/${purchaseId}/void`, { token: partner.key }), 201);
  return (await res.json()) as { refundId: string; pointsClawedBack: number; pointsRestored: number };
}

/** Settlement rates as the partner-management API will set them (thousandths of ₩ per point). */
function setRates(partnerId: string, pointCostMilli: number, redemptionRateMilli: number) {
  t.database.sqlite.prepare("UPDATE partners SET point_cost_milli = ?, redemption_rate_milli = ? WHERE id = ?").run(pointCostMilli, redemptionRateMilli, partnerId);
}

async function givenShopper() {
  const member = await givenMember(t, { phone: null });
  return { member, card: await givenCard(t, member.id) };
}

/** The statement adds up: totals are the column sums of its lines, and net is the signed sum. */
function expectAddsUp(s: Statement) {
  const points: Points = { issued: 0, reversed: 0, redeemed: 0, restored: 0 };
  const amounts: Amounts = { ...NO_AMOUNTS };
  for (const line of s.lines) {
    for (const k of Object.keys(points) as Array<keyof Points>) points[k] += line.points[k];
    for (const k of Object.keys(amounts) as Array<keyof Amounts>) amounts[k] += line.amounts[k];
  }
  expect(s.points).toEqual(points);
  expect(s.amounts).toEqual(amounts);
  expect(s.netMinor).toBe(s.lines.reduce((n, l) => n + l.netMinor, 0));
  const a = s.amounts;
  expect(s.netMinor).toBe(
    a.issuanceChargeMinor - a.reversalCreditMinor - a.redemptionReimbursementMinor + a.restorationChargeMinor - a.operatorFundedDiscountsMinor + a.operatorFundedDiscountsReversedMinor,
  );
}

describe("a month's statement", () => {
  it("counts points issued, reversed, redeemed and restored, prices them at the partner's rates, and signs the net", async () => {
    t = await createTestApp();
    const cinema = await givenPartner(t, "별빛시네마 강남");
    const cafe = await givenPartner(t, "달빛카페 합정");
    setRates(cinema.id, 1_500, 900); // pays ₩1.5 per point issued, gets ₩0.9 per point spent there
    const { card } = await givenShopper();

    const p1 = await buy(cinema, card, { amountMinor: 100_000 }); // earns 1,000
    const p2 = await buy(cinema, card, { amountMinor: 40_000, redeemPoints: 400 }); // spends 400, earns 396
    t.clock.advance(60_000);
    const partial = await refund(cinema, p2.purchaseId, 20_000); // claws back 198, restores 200
    const p3 = await buy(cinema, card, { amountMinor: 12_345 }); // earns 123: ₩184.5 rounds up to ₩185
    t.clock.advance(60_000);
    const voided = await voidPurchase(cinema, p3.purchaseId);
    // The café is where points are spent: it earns little and is reimbursed much.
    const atCafe = await buy(cafe, card, { amountMinor: 10_000, redeemPoints: 900 }); // spends 900, earns 91
    expect([p1.pointsEarned, p2.pointsEarned, partial.pointsClawedBack, partial.pointsRestored, p3.pointsEarned, voided.pointsClawedBack, atCafe.pointsEarned]).toEqual([
      1_000, 396, 198, 200, 123, 123, 91,
    ]);

    const s = await statement(cinema.id, "2026-03");
    expect(s).toMatchObject({
      partnerId: cinema.id,
      partnerName: "별빛시네마 강남",
      month: "2026-03",
      currency: "KRW",
      // March in Korea (UTC+9): from 1 March 00:00 KST to 1 April 00:00 KST.
      from: "2026-02-28T15:00:00.000Z",
      to: "2026-03-31T15:00:00.000Z",
      status: "open",
      points: { issued: 1_000 + 396 + 123, reversed: 198 + 123, redeemed: 400, restored: 200 },
      amounts: {
        ...NO_AMOUNTS,
        issuanceChargeMinor: 1_500 + 594 + 185,
        reversalCreditMinor: 297 + 185,
        redemptionReimbursementMinor: 360,
        restorationChargeMinor: 180,
      },
      netMinor: 2_279 - 482 - 360 + 180,
    });
    expect(s.netMinor).toBeGreaterThan(0); // the cinema owes the operator
    expect(s.lines.map((l) => [l.kind, l.purchaseId, l.points, l.netMinor])).toEqual([
      ["purchase", p1.purchaseId, { issued: 1_000, reversed: 0, redeemed: 0, restored: 0 }, 1_500],
      ["purchase", p2.purchaseId, { issued: 396, reversed: 0, redeemed: 400, restored: 0 }, 594 - 360],
      ["refund", p2.purchaseId, { issued: 0, reversed: 198, redeemed: 0, restored: 200 }, -297 + 180],
      ["purchase", p3.purchaseId, { issued: 123, reversed: 0, redeemed: 0, restored: 0 }, 185],
      ["void", p3.purchaseId, { issued: 0, reversed: 123, redeemed: 0, restored: 0 }, -185],
    ]);
    expect(s.lines[2]).toMatchObject({ txnId: partial.refundId, receiptId: expect.any(String), pointCostMilli: 1_500, redemptionRateMilli: 900, bookedAt: new Date(T0 + 60_000).toISOString() });
    expectAddsUp(s);

    const c = await statement(cafe.id, "2026-03");
    expect(c).toMatchObject({ points: { issued: 91, reversed: 0, redeemed: 900, restored: 0 }, netMinor: 91 - 900 });
    expect(c.netMinor).toBeLessThan(0); // the operator owes the café
    expect(c.lines.map((l) => l.purchaseId)).toEqual([atCafe.purchaseId]);
  });

  it("is empty for a partner with no sales that month, and refused for a month that has not begun", async () => {
    t = await createTestApp();
    const partner = await givenPartner(t);
    expect(await statement(partner.id, "2026-02")).toMatchObject({ status: "closed", points: { issued: 0, reversed: 0, redeemed: 0, restored: 0 }, amounts: NO_AMOUNTS, netMinor: 0, lines: [] });
    const res = await t.call("GET", `/v1/partners/${partner.id}/statements/2026-04`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "validation_failed", errors: [{ field: "month", message: "Has not begun yet" }] });
    expect((await t.call("GET", `/v1/partners/prt_nobody/statements/2026-03`)).status).toBe(404);
  });
});

describe("months are cut by booking time in the program's time zone", () => {
  it("puts a sale at 23:59:59.999 KST on 31 March in March, one a millisecond later in April, and a back-dated sale in the month it is booked", async () => {
    t = await createTestApp();
    const partner = await givenPartner(t);
    const { card } = await givenShopper();
    const backDated = await buy(partner, card, { amountMinor: 10_000, occurredAt: new Date(T0 - 20 * DAY_MS).toISOString() }); // occurred in February
    t.clock.now = Date.parse("2026-03-31T23:59:59.999+09:00");
    const lastOfMarch = await buy(partner, card, { amountMinor: 20_000 });
    t.clock.now = Date.parse("2026-04-01T00:00:00.000+09:00"); // still 31 March in UTC
    const firstOfApril = await buy(partner, card, { amountMinor: 30_000 });

    expect((await statement(partner.id, "2026-02")).lines).toEqual([]);
    expect((await statement(partner.id, "2026-03")).lines.map((l) => l.purchaseId)).toEqual([backDated.purchaseId, lastOfMarch.purchaseId]);
    expect((await statement(partner.id, "2026-04")).lines.map((l) => l.purchaseId)).toEqual([firstOfApril.purchaseId]);
  });

  it("books a refund made next month in next month, and leaves the closed month exactly as it was", async () => {
    t = await createTestApp();
    const partner = await givenPartner(t);
    const { card } = await givenShopper();
    await buy(partner, card, { amountMinor: 50_000 });
    const sale = await buy(partner, card, { amountMinor: 40_000, redeemPoints: 400 });
    expect((await statement(partner.id, "2026-03")).status).toBe("open");

    t.clock.now = Date.parse("2026-04-03T10:00:00+09:00");
    const march = await statementText(partner.id, "2026-03");
    expect(JSON.parse(march)).toMatchObject({ status: "closed", points: { issued: 500 + 396, reversed: 0, redeemed: 400, restored: 0 } });

    const late = await refund(partner, sale.purchaseId, 10_000);
    expect(late).toMatchObject({ pointsClawedBack: 99, pointsRestored: 100 });
    await buy(partner, card, { amountMinor: 10_000, occurredAt: "2026-03-25T12:00:00+09:00" }); // occurred in March, booked in April

    expect(await statementText(partner.id, "2026-03")).toBe(march);
    const april = await statement(partner.id, "2026-04");
    expect(april).toMatchObject({ status: "open", points: { issued: 100, reversed: 99, redeemed: 0, restored: 100 } });
    expect(april.lines.map((l) => [l.kind, l.purchaseId])).toEqual([
      ["refund", sale.purchaseId],
      ["purchase", expect.any(String)],
    ]);
    expect(april.lines[0]).toMatchObject({ txnId: late.refundId, bookedAt: "2026-04-03T01:00:00.000Z" });
    expectAddsUp(april);
  });
});

describe("rates", () => {
  it("are the partner's when the purchase was made: later changes move neither past lines nor refunds of past purchases", async () => {
    t = await createTestApp();
    const partner = await givenPartner(t);
    const { card } = await givenShopper();
    setRates(partner.id, 2_000, 1_200);
    const before = await buy(partner, card, { amountMinor: 10_000 }); // 100 points at ₩2
    await buy(partner, card, { amountMinor: 5_000, redeemPoints: 50 }); // 50 spent at ₩1.2, 49 earned at ₩2
    const march = await statementText(partner.id, "2026-03");
    const first = JSON.parse(march) as Statement;
    expect(first.lines.map((l) => [l.pointCostMilli, l.redemptionRateMilli, l.amounts.issuanceChargeMinor, l.amounts.redemptionReimbursementMinor])).toEqual([
      [2_000, 1_200, 200, 0],
      [2_000, 1_200, 98, 60],
    ]);

    setRates(partner.id, 500, 3_000);
    expect(await statementText(partner.id, "2026-03")).toBe(march);
    const after = await buy(partner, card, { amountMinor: 10_000 }); // 100 points at ₩0.5
    const refunded = await refund(partner, before.purchaseId, 5_000); // 50 points back at the old ₩2

    const s = await statement(partner.id, "2026-03");
    expect(s.lines.slice(0, 2)).toEqual(first.lines);
    expect(s.lines.slice(2).map((l) => [l.kind, l.purchaseId, l.pointCostMilli, l.amounts.issuanceChargeMinor, l.amounts.reversalCreditMinor])).toEqual([
      ["purchase", after.purchaseId, 500, 50, 0],
      ["refund", before.purchaseId, 2_000, 0, 100],
    ]);
    expect(refunded.pointsClawedBack).toBe(50);
    expectAddsUp(s);
  });

  it("round half up on each line, to the unit", async () => {
    t = await createTestApp();
    const partner = await givenPartner(t);
    const { card } = await givenShopper();
    setRates(partner.id, 1_005, 1_005);
    await buy(partner, card, { amountMinor: 10_000 }); // 100 points × ₩1.005 = ₩100.5 → ₩101
    await buy(partner, card, { amountMinor: 9_900 }); // 99 × ₩1.005 = ₩99.495 → ₩99
    await buy(partner, card, { amountMinor: 10_000 }); // ₩101 again
    const s = await statement(partner.id, "2026-03");
    expect(s.lines.map((l) => l.amounts.issuanceChargeMinor)).toEqual([101, 99, 101]);
    // The sum of the lines, not the total rounded once (299 × ₩1.005 = ₩300.495 → ₩300).
    expect(s.amounts.issuanceChargeMinor).toBe(301);
  });
});

describe("offer discounts", () => {
  it("count the partner-funded part for the record and settle the operator-funded part, taken back when refunded in the refund's month", async () => {
    t = await createTestApp();
    const partner = await givenPartner(t);
    const { member, card } = await givenShopper();
    const sale = await buy(partner, card, { amountMinor: 20_000 });
    t.clock.now = Date.parse("2026-04-02T10:00:00+09:00");
    const refunded = await refund(partner, sale.purchaseId, 10_000);
    // The offers work writes these rows with the purchase and the refund; until its end-to-end
    // tests land, by hand (after the refund, so the refund itself moves no discount).
    const db = t.database.sqlite;
    db.prepare(`INSERT INTO offers (id, partner_id, name, kind, rules, status, valid_from, created_at, updated_at) VALUES ('ofr_test', NULL, '봄맞이 2,000원', 'amount', '{}', 'active', ?, ?, ?)`).run(T0, T0, T0);
    db.prepare(`INSERT INTO purchase_offers (purchase_id, offer_id, member_id, discount_minor, operator_funded_minor, occurred_at) VALUES (?, 'ofr_test', ?, 2000, 500, ?)`).run(sale.purchaseId, member.id, T0);
    db.prepare(`INSERT INTO purchase_offer_refunds (txn_id, purchase_id, offer_id, discount_minor, operator_funded_minor, created_at) VALUES (?, ?, 'ofr_test', 1000, 250, ?)`).run(refunded.refundId, sale.purchaseId, t.clock.now);

    const march = await statement(partner.id, "2026-03");
    expect(march.amounts).toEqual({ ...NO_AMOUNTS, issuanceChargeMinor: 200, partnerFundedDiscountsMinor: 1_500, operatorFundedDiscountsMinor: 500 });
    expect(march.netMinor).toBe(200 - 500);
    const april = await statement(partner.id, "2026-04");
    expect(april.amounts).toEqual({ ...NO_AMOUNTS, reversalCreditMinor: 100, partnerFundedDiscountsReversedMinor: 750, operatorFundedDiscountsReversedMinor: 250 });
    expect(april.netMinor).toBe(-100 + 250);
    expectAddsUp(march);
    expectAddsUp(april);
  });
});

/** RFC 4180: quoted fields, doubled quotes, CRLF rows. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") row.push(field), (field = "");
    else if (ch === "\r" && text[i + 1] === "\n") {
      row.push(field), rows.push(row), (row = []), (field = ""), i++;
    } else field += ch;
  }
  expect(field).toBe(""); // ends with CRLF
  return rows;
}

describe("CSV", () => {
  it("has a header, one row per line and a totals row that match the JSON, quoted where needed", async () => {
    t = await createTestApp();
    const partner = await givenPartner(t);
    const { card } = await givenShopper();
    setRates(partner.id, 1_500, 900);
    await buy(partner, card, { amountMinor: 30_000 });
    const tricky = await buy(partner, card, { amountMinor: 12_345, redeemPoints: 100, receiptId: '=HYPERLINK("x",1), "영수증"' });
    await refund(partner, tricky.purchaseId, 2_345);

    const json = await statement(partner.id, "2026-03");
    const res = await expectStatus(await t.call("GET", `/v1/partners/${partner.id}/statements/2026-03`, { headers: { accept: "text/csv" } }), 200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toBe(`attachment; filename="statement-${partner.id}-2026-03.csv"`);
    const rows = parseCsv(await res.text());
    const [header, ...rest] = rows;
    expect(rows.every((r) => r.length === header!.length)).toBe(true);
    expect(rest).toHaveLength(json.lines.length + 1);
    const col = (row: string[], name: string) => row[header!.indexOf(name)]!;
    const numbers = (row: string[]) => ({
      points: { issued: +col(row, "pointsIssued"), reversed: +col(row, "pointsReversed"), redeemed: +col(row, "pointsRedeemed"), restored: +col(row, "pointsRestored") },
      amounts: Object.fromEntries(Object.keys(NO_AMOUNTS).map((k) => [k, +col(row, k)])),
      netMinor: +col(row, "netMinor"),
    });

    const totals = rest.at(-1)!;
    expect(col(totals, "kind")).toBe("total");
    expect(numbers(totals)).toEqual({ points: json.points, amounts: json.amounts, netMinor: json.netMinor });
    rest.slice(0, -1).forEach((row, i) => {
      const line = json.lines[i]!;
      expect([col(row, "bookedAt"), col(row, "kind"), col(row, "txnId"), col(row, "purchaseId")]).toEqual([line.bookedAt, line.kind, line.txnId, line.purchaseId]);
      expect(numbers(row)).toEqual({ points: line.points, amounts: line.amounts, netMinor: line.netMinor });
    });
    // A receipt id that a spreadsheet would run as a formula is kept as text.
    expect(col(rest[1]!, "receiptId")).toBe(`'=HYPERLINK("x",1), "영수증"`);
    // The sums of the CSV's own rows are its totals row.
    const summed = rest.slice(0, -1).reduce((n, row) => n + +col(row, "netMinor"), 0);
    expect(summed).toBe(+col(totals, "netMinor"));
  });

  it("is JSON unless CSV is preferred", async () => {
    t = await createTestApp();
    const partner = await givenPartner(t);
    const type = async (accept: string) =>
      (await expectStatus(await t.call("GET", `/v1/partners/${partner.id}/statements/2026-03`, { headers: { accept } }), 200)).headers.get("content-type");
    expect(await type("*/*")).toBe("application/json");
    expect(await type("application/json, text/csv;q=0.5")).toBe("application/json");
    expect(await type("text/csv;q=0.9, application/json;q=0.1")).toBe("text/csv; charset=utf-8");
  });
});

describe("who may read a statement", () => {
  it("staff any partner's; a key with statements:read only its own partner's (another is a 404); other keys and members never", async () => {
    t = await createTestApp();
    const a = await givenPartner(t, "가 파트너");
    const b = await givenPartner(t, "나 파트너");
    const { member } = await givenShopper();
    const keyOf = async (partnerId: string, scopes: string[]) =>
      ((await (await expectStatus(await t.call("POST", `/v1/partners/${partnerId}/keys`, { body: { name: "back office", scopes } }), 201)).json()) as { key: string }).key;
    const aStatements = await keyOf(a.id, ["statements:read"]);
    const path = (partnerId: string) => `/v1/partners/${partnerId}/statements/2026-03`;

    expect((await t.call("GET", path(a.id), { token: aStatements })).status).toBe(200);
    const other = await t.call("GET", path(b.id), { token: aStatements });
    expect(other.status).toBe(404);
    expect(await other.json()).toMatchObject({ code: "not_found" });
    // The default scopes (cards:verify, purchases:write) do not include statements.
    expect(await (await t.call("GET", path(a.id), { token: a.key })).json()).toMatchObject({ status: 403, code: "forbidden" });
    expect((await t.call("GET", path(a.id), { token: await keyOf(a.id, ["cards:verify", "purchases:write", "offers:write"]) })).status).toBe(403);
    expect((await t.call("GET", path(a.id), { token: await memberToken(t, member) })).status).toBe(403);
    expect((await t.call("GET", path(a.id), { token: (await givenStaff(t, "marketer")).token })).status).toBe(200);
    expect((await t.call("GET", path(a.id), { token: null })).status).toBe(401);
  });
});

describe("reconciliation", () => {
  const MARCH = { month: "2026-03", from: Date.parse("2026-03-01T00:00:00+09:00"), to: Date.parse("2026-04-01T00:00:00+09:00") };
  const APRIL = { month: "2026-04", from: Date.parse("2026-04-01T00:00:00+09:00"), to: Date.parse("2026-05-01T00:00:00+09:00") };
  const PARTNERS = 5;
  const MEMBERS = 200;
  const SALES = 10_000;
  /** Requests in flight at once: one per member, so no two touch the same balance. */
  const CHUNK = MEMBERS;

  /** The ledger's own movements on every partner's issuance and redemption accounts, by booking time. */
  function ledgerMovements(range: { from: number; to: number }): Points {
    return t.database.sqlite
      .prepare(
        `SELECT COALESCE(SUM(CASE WHEN e.account LIKE 'issuance:%' AND e.points < 0 THEN -e.points END), 0) AS issued,
                COALESCE(SUM(CASE WHEN e.account LIKE 'issuance:%' AND e.points > 0 THEN e.points END), 0) AS reversed,
                COALESCE(SUM(CASE WHEN e.account LIKE 'redemption:%' AND e.points > 0 THEN e.points END), 0) AS redeemed,
                COALESCE(SUM(CASE WHEN e.account LIKE 'redemption:%' AND e.points < 0 THEN -e.points END), 0) AS restored
         FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.txn_id
         WHERE t.created_at >= ? AND t.created_at < ?`,
      )
      .get(range.from, range.to) as Points;
  }

  async function inChunks<T>(count: number, run: (i: number) => Promise<T>): Promise<T[]> {
    const out: T[] = [];
    for (let start = 0; start < count; start += CHUNK) {
      out.push(...(await Promise.all(Array.from({ length: Math.min(CHUNK, count - start) }, (_, k) => run(start + k)))));
      t.clock.advance(60_000);
    }
    return out;
  }

  it(`every partner's statements add up to the ledger's movements, over a month of ${SALES.toLocaleString("en")} sales with redemptions and refunds`, async () => {
    const started = performance.now();
    t = await createTestApp({ LOG_LEVEL: "warn" });
    const partners: Array<Awaited<ReturnType<typeof givenPartner>>> = [];
    for (let p = 0; p < PARTNERS; p++) {
      const partner = await givenPartner(t, `파트너 ${p}`);
      setRates(partner.id, 800 + 150 * p, 1_000 + 45 * p); // uneven rates, so rounding happens
      partners.push(partner);
    }
    const cards: Array<{ number: string; memberId: string }> = [];
    for (let m = 0; m < MEMBERS; m++) cards.push((await givenShopper()).card);
    const setupMs = performance.now() - started;

    // March: everyone earns, then half the sales also spend points; a tenth are refunded in part
    // and a twentieth voided, in March, and more of March's sales are refunded in April. The
    // indices are chosen so that refunds hit sales with and without points spent.
    const sales = await inChunks(SALES, async (i) => {
      const partner = partners[i % PARTNERS]!;
      const amountMinor = 1_000 + ((i * 7_919) % 90_001);
      const redeemPoints = i >= SALES / 2 && i % 2 === 0 ? 10 + (i % 37) : 0;
      const card = cards[i % MEMBERS]!;
      const res = await expectStatus(await purchase(t, partner, redeemPoints ? await scannedCard(t, card) : card, { amountMinor, redeemPoints }), 201);
      return { partner, amountMinor, ...((await res.json()) as { purchaseId: string }) };
    });
    const generatedMs = performance.now() - started - setupMs;
    await inChunks(SALES / 10, async (k) => {
      const sale = sales[k * 10 + 4]!;
      return refund(sale.partner, sale.purchaseId, Math.floor(sale.amountMinor / 3));
    });
    await inChunks(SALES / 20, async (k) => voidPurchase(sales[k * 20 + 7]!.partner, sales[k * 20 + 7]!.purchaseId));
    t.clock.now = Date.parse("2026-03-31T23:59:00+09:00");
    await inChunks(SALES / 50, async (k) => buy(partners[k % PARTNERS]!, cards[k % MEMBERS]!, { amountMinor: 5_000 }));
    t.clock.now = Date.parse("2026-04-01T00:00:00+09:00");
    await inChunks(SALES / 20, async (k) => {
      const sale = sales[k * 20 + 16]!;
      return refund(sale.partner, sale.purchaseId, Math.floor(sale.amountMinor / 2));
    });
    await inChunks(SALES / 50, async (k) => buy(partners[k % PARTNERS]!, cards[k % MEMBERS]!, { amountMinor: 7_000, redeemPoints: 5 }));

    for (const range of [MARCH, APRIL]) {
      const total: Points = { issued: 0, reversed: 0, redeemed: 0, restored: 0 };
      let lines = 0;
      let issuanceChargeMinor = 0;
      const readMs: number[] = [];
      for (const partner of partners) {
        const before = performance.now();
        const s = await statement(partner.id, range.month);
        readMs.push(performance.now() - before);
        expectAddsUp(s);
        for (const k of Object.keys(total) as Array<keyof Points>) total[k] += s.points[k];
        lines += s.lines.length;
        issuanceChargeMinor += s.amounts.issuanceChargeMinor;
      }
      expect(total).toEqual(ledgerMovements(range));
      const transactions = t.database.sqlite
        .prepare(`SELECT COUNT(*) AS n FROM ledger_transactions WHERE kind IN ('purchase', 'refund', 'void') AND created_at >= ? AND created_at < ?`)
        .get(range.from, range.to) as { n: number };
      expect(lines).toBe(transactions.n);
      // Money too: each issuing transaction rounded on its own, at its purchase's rate.
      const charged = t.database.sqlite
        .prepare(
          // (+e.account: not through the account index, which would visit every issuance entry per row)
          `SELECT COALESCE(SUM((-e.points * p.point_cost_milli + 500) / 1000), 0) AS minor
           FROM ledger_transactions t JOIN purchases p ON p.id = t.purchase_id JOIN ledger_entries e ON e.txn_id = t.id
           WHERE t.kind = 'purchase' AND +e.account = 'issuance:' || t.partner_id AND t.created_at >= ? AND t.created_at < ?`,
        )
        .get(range.from, range.to) as { minor: number };
      expect(issuanceChargeMinor).toBe(charged.minor);
      if (range === MARCH) {
        expect(lines).toBeGreaterThan(SALES);
        expect(total.redeemed).toBeGreaterThan(0);
        expect(total.restored).toBeGreaterThan(0);
      }
      // A document of thousands of lines reads in tens of ms; the bound only catches a query per line.
      expect(Math.max(...readMs)).toBeLessThan(1_000);
      console.info(`${range.month}: ${lines} lines; statement reads ${readMs.map((ms) => ms.toFixed(0)).join(", ")} ms`);
    }
    console.info(`setup ${setupMs.toFixed(0)} ms, ${SALES} sales ${generatedMs.toFixed(0)} ms, whole test ${(performance.now() - started).toFixed(0)} ms`);
  }, 60_000);
});
