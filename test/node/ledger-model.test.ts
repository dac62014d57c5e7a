/**
 * Model-based test of the points ledger: random sequences of earn (some with items), redeem,
 * refund by amount or by items, void, expire and release (with the clock moved), adjust and
 * Idempotency-Key replays run against the API and against a small in-memory model of the rules,
 * with points available at once or after 3 pending days. After every command the member's balance and debt must
 * match the model; after every run the ledger's invariants must hold.
 */
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { itemRefundMinor } from "../../src/domain/refund.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { expectLedgerBalanced, expectStatus, givenCard, givenMember, givenPartner } from "../helpers/factories.ts";

const RUNS = 50;
const COMMANDS_PER_RUN = 200;
const DAY = 86_400_000;
const EXPIRY_MONTHS = 1;

// ---- the model -------------------------------------------------------------------------------

interface Lot {
  seq: number;
  memberIdx: number;
  remaining: number;
  earnedAt: number;
  availableAt: number;
  released: boolean;
  expiresAt: number;
}

interface Line {
  sku: string;
  amount: number;
  quantity: number;
  refunded: number;
}

interface Purchase {
  id: string;
  memberIdx: number;
  amount: number;
  earned: number;
  redeemed: number;
  refunded: number;
  clawed: number;
  restored: number;
  ownLot: Lot | null;
  lines: Line[] | null;
  /** Lots drawn from, in the order drawn, and how much was taken from each. */
  draws: Array<{ lot: Lot; points: number; returned: number }>;
}

class Model {
  lots: Lot[] = [];
  debt = [0, 0];
  purchases: Purchase[] = [];
  private seq = 0;

  constructor(readonly pendingDays: number) {}

  available(memberIdx: number) {
    return this.lots.filter((l) => l.memberIdx === memberIdx && l.released).reduce((n, l) => n + l.remaining, 0);
  }

  pending(memberIdx: number) {
    return this.lots.filter((l) => l.memberIdx === memberIdx && !l.released).reduce((n, l) => n + l.remaining, 0);
  }

  /** Available lots, in the order they are spent: earliest expiry first. */
  private byExpiry(memberIdx: number) {
    return this.lots
      .filter((l) => l.memberIdx === memberIdx && l.released && l.remaining > 0)
      .sort((a, b) => a.expiresAt - b.expiresAt || a.earnedAt - b.earnedAt || a.seq - b.seq);
  }

  /** Calendar months, as the program's rolling policy (Korea time; the test clock is mid-day). */
  private expiry(at: number) {
    const d = new Date(at + 9 * 3_600_000);
    const target = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + EXPIRY_MONTHS + 1, 0));
    const day = Math.min(d.getUTCDate(), target.getUTCDate());
    return Date.UTC(target.getUTCFullYear(), target.getUTCMonth(), day) - 9 * 3_600_000 + ((at + 9 * 3_600_000) % DAY);
  }

  /** Earned points repay debt first and wait the pending days; operator adjustments do neither. */
  credit(memberIdx: number, points: number, now: number, earned = true): Lot | null {
    const repay = earned ? Math.min(points, this.debt[memberIdx]!) : 0;
    this.debt[memberIdx]! -= repay;
    const credited = points - repay;
    if (credited === 0) return null;
    const availableAt = now + (earned ? this.pendingDays * DAY : 0);
    const lot = { seq: this.seq++, memberIdx, remaining: credited, earnedAt: now, availableAt, released: availableAt <= now, expiresAt: this.expiry(now) };
    this.lots.push(lot);
    return lot;
  }

  spend(memberIdx: number, points: number) {
    const draws: Purchase["draws"] = [];
    let left = points;
    for (const lot of this.byExpiry(memberIdx)) {
      if (left === 0) break;
      const take = Math.min(left, lot.remaining);
      lot.remaining -= take;
      left -= take;
      draws.push({ lot, points: take, returned: 0 });
    }
    return draws;
  }

  refund(p: Purchase, amount: number) {
    const after = p.refunded + amount;
    const claw = Math.floor((p.earned * after) / p.amount) - p.clawed;
    const restore = Math.floor((p.redeemed * after) / p.amount) - p.restored;
    let left = claw;
    const own = p.ownLot && p.ownLot.remaining > 0 ? [p.ownLot] : [];
    for (const lot of [...own, ...this.byExpiry(p.memberIdx).filter((l) => l !== p.ownLot)]) {
      if (left === 0) break;
      const take = Math.min(left, lot.remaining);
      lot.remaining -= take;
      left -= take;
    }
    this.debt[p.memberIdx]! += left;
    let back = restore;
    for (const draw of [...p.draws].sort((a, b) => b.lot.expiresAt - a.lot.expiresAt)) {
      const give = Math.min(back, draw.points - draw.returned);
      draw.lot.remaining += give;
      draw.returned += give;
      back -= give;
    }
    p.refunded = after;
    p.clawed += claw;
    p.restored += restore;
    return { claw, restore, owed: left };
  }

  /** The job: pending points due are released first, then released points due expire. */
  runJobs(now: number) {
    for (const lot of this.lots) if (!lot.released && lot.availableAt <= now) lot.released = true;
    for (const lot of this.lots) if (lot.released && lot.expiresAt <= now) lot.remaining = 0;
  }
}

// ---- the commands ----------------------------------------------------------------------------

type Command =
  | { kind: "earn"; member: number; amount: number; items: { qa: number; qb: number } | null }
  | { kind: "refundItems"; purchase: number; line: number; quantity: number }
  | { kind: "redeem"; member: number; amount: number; points: number }
  | { kind: "refund"; purchase: number; share: number }
  | { kind: "void"; purchase: number }
  | { kind: "expire"; days: number }
  | { kind: "adjust"; member: number; points: number }
  | { kind: "replay"; changed: boolean };

const member = fc.integer({ min: 0, max: 1 });
const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("earn" as const),
      member,
      amount: fc.integer({ min: 0, max: 200_000 }),
      items: fc.option(fc.record({ qa: fc.integer({ min: 1, max: 3 }), qb: fc.integer({ min: 1, max: 4 }) }), { nil: null }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("refundItems" as const), purchase: fc.nat(), line: fc.integer({ min: 0, max: 1 }), quantity: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("redeem" as const), member, amount: fc.integer({ min: 1, max: 50_000 }), points: fc.integer({ min: 1, max: 3_000 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("refund" as const), purchase: fc.nat(), share: fc.double({ min: 0.01, max: 1, noNaN: true }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("void" as const), purchase: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("expire" as const), days: fc.integer({ min: 1, max: 40 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("adjust" as const), member, points: fc.integer({ min: -2_000, max: 2_000 }).filter((n) => n !== 0) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("replay" as const), changed: fc.boolean() }) },
);

let commandsRun = 0;

async function json<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

async function runScenario(pendingDays: number, commands: Command[]) {
  const t: TestApp = await createTestApp();
  const program = await json<{ program: Record<string, unknown> }>(await t.call("GET", "/v1/program"));
  await expectStatus(
    await t.call("PUT", "/v1/program", {
      body: {
        ...program.program,
        earning: { ...(program.program.earning as object), pendingDays },
        expiry: { policy: "rolling_months", months: EXPIRY_MONTHS },
        expiryNoticeDays: 0,
        // Points spent on the typed number: the model is about the ledger's arithmetic, and a
        // replay days later must find the receipt, not an expired QR token. The proof of
        // presence spending needs otherwise is test/node/member-pin.test.ts's subject.
        redemption: { ...(program.program.redemption as object), allowTypedNumber: true },
        tiers: [{ code: "basic", name: "Basic", qualifyingPoints: 0, multiplierPct: 100 }],
      },
    }),
    200,
  );
  const members = [await givenMember(t), await givenMember(t)];
  const cards = [await givenCard(t, members[0]!.id), await givenCard(t, members[1]!.id)];
  const partner = await givenPartner(t);
  const model = new Model(pendingDays);
  let receipt = 0;
  let lastKeyed: { key: string; body: Record<string, unknown>; response: unknown; at: number; purged: boolean } | null = null;

  const buy = (memberIdx: number, amount: number, redeemPoints: number, key?: string, lines?: Line[]) => {
    const items = lines?.map((l, i) => ({ sku: l.sku, category: `c${i}`, amountMinor: l.amount, quantity: l.quantity }));
    const body = { card: { number: cards[memberIdx]!.number }, receiptId: `m-${++receipt}`, amountMinor: amount, currency: "KRW", ...(redeemPoints ? { redeemPoints } : {}), ...(items ? { items } : {}) };
    return { body, res: t.call("POST", "/v1/purchases", { token: partner.key, body, headers: key ? { "idempotency-key": key } : {} }) };
  };

  const expectBalance = async (memberIdx: number, context: string) => {
    const balance = await json<{ available: number; pending: number; owed: number }>(await t.call("GET", `/v1/members/${members[memberIdx]!.id}/balance`));
    expect({ available: balance.available, pending: balance.pending, owed: balance.owed }, context).toEqual({
      available: model.available(memberIdx),
      pending: model.pending(memberIdx),
      owed: model.debt[memberIdx],
    });
  };

  for (const [i, cmd] of commands.entries()) {
    const context = `command ${i}: ${JSON.stringify(cmd)}`;
    commandsRun++;
    switch (cmd.kind) {
      case "earn":
      case "redeem": {
        const points = cmd.kind === "redeem" ? Math.min(cmd.points, cmd.amount) : 0;
        const key = `k-${receipt + 1}`;
        // Two lines in two categories: each rounds down on its own.
        const split = Math.floor(cmd.amount * 0.6);
        const lines: Line[] | null =
          cmd.kind === "earn" && cmd.items
            ? [
                { sku: "A", amount: split, quantity: cmd.items.qa, refunded: 0 },
                { sku: "B", amount: cmd.amount - split, quantity: cmd.items.qb, refunded: 0 },
              ]
            : null;
        const { body, res } = buy(cmd.member, cmd.amount, points, key, lines ?? undefined);
        const response = await res;
        if (points > model.available(cmd.member)) {
          expect(response.status, context).toBe(422);
          expect((await json<{ code: string }>(response)).code).toBe("insufficient_points");
        } else {
          expect(response.status, context).toBe(201);
          const result = await json<{ purchaseId: string; pointsEarned: number; pointsRedeemed: number; balance: { available: number } }>(response);
          const earned = lines ? lines.reduce((n, l) => n + Math.floor(l.amount / 100), 0) : Math.floor((cmd.amount - points) / 100);
          expect(result.pointsEarned, context).toBe(earned);
          const draws = model.spend(cmd.member, points);
          const ownLot = model.credit(cmd.member, earned, t.clock.now);
          model.purchases.push({ id: result.purchaseId, memberIdx: cmd.member, amount: cmd.amount, earned, redeemed: points, refunded: 0, clawed: 0, restored: 0, ownLot, draws, lines });
          expect(result.balance.available, context).toBe(model.available(cmd.member));
          lastKeyed = { key, body, response: result, at: t.clock.now, purged: false };
        }
        break;
      }
      case "refund":
      case "void": {
        if (model.purchases.length === 0) break;
        const p = model.purchases[cmd.purchase % model.purchases.length]!;
        const left = p.amount - p.refunded;
        const amount = cmd.kind === "void" ? left : Math.max(1, Math.ceil(left * cmd.share));
        const res =
          cmd.kind === "void"
            ? await t.call("POST", `/v1/purchases/${p.id}/void`, { token: partner.key })
            : await t.call("POST", `/v1/purchases/${p.id}/refunds`, { token: partner.key, body: { amountMinor: amount } });
        if (left === 0) {
          expect(res.status, context).toBe(409);
          expect((await json<{ code: string }>(res)).code).toBe("nothing_to_refund");
          break;
        }
        expect(res.status, context).toBe(201);
        const effect = model.refund(p, amount);
        expect(await json(res), context).toMatchObject({ pointsClawedBack: effect.claw, pointsRestored: effect.restore, pointsOwed: effect.owed });
        await expectBalance(p.memberIdx, context);
        break;
      }
      case "refundItems": {
        if (model.purchases.length === 0) break;
        const p = model.purchases[cmd.purchase % model.purchases.length]!;
        const res = await t.call("POST", `/v1/purchases/${p.id}/refunds`, { token: partner.key, body: { items: [{ sku: cmd.line === 0 ? "A" : "B", quantity: cmd.quantity }] } });
        const line = p.lines?.[cmd.line];
        const left = p.amount - p.refunded;
        if (!line) {
          expect(await json(res), context).toMatchObject({ status: 400, code: "validation_failed" });
        } else if (line.refunded + cmd.quantity > line.quantity) {
          expect(await json(res), context).toMatchObject({ status: 422, code: "refund_exceeds_remaining" });
        } else if (left === 0) {
          expect(await json(res), context).toMatchObject({ status: 409, code: "nothing_to_refund" });
        } else {
          const amount = itemRefundMinor({ sku: line.sku, amountMinor: line.amount, quantity: line.quantity }, line.refunded, cmd.quantity);
          if (amount > left) {
            expect(await json(res), context).toMatchObject({ status: 422, code: "refund_exceeds_remaining" });
            break;
          }
          expect(res.status, context).toBe(201);
          line.refunded += cmd.quantity;
          const effect = model.refund(p, amount);
          expect(await json(res), context).toMatchObject({ amountMinor: amount, pointsClawedBack: effect.claw, pointsRestored: effect.restore, pointsOwed: effect.owed });
        }
        await expectBalance(p.memberIdx, context);
        break;
      }
      case "expire": {
        t.clock.advance(cmd.days * DAY);
        await expectStatus(await t.call("POST", "/v1/jobs/points"), 200);
        model.runJobs(t.clock.now);
        // The job forgets Idempotency-Keys after their 7 days.
        if (lastKeyed && t.clock.now > lastKeyed.at + 7 * DAY) lastKeyed.purged = true;
        // A second run moves nothing more.
        expect(await json(await t.call("POST", "/v1/jobs/points")), context).toMatchObject({ released: 0, expired: 0 });
        break;
      }
      case "adjust": {
        const res = await t.call("POST", `/v1/members/${members[cmd.member]!.id}/adjustments`, { body: { points: cmd.points, reason: "model test" } });
        if (cmd.points < 0 && -cmd.points > model.available(cmd.member)) {
          expect(res.status, context).toBe(422);
        } else {
          expect(res.status, context).toBe(201);
          if (cmd.points > 0) {
            model.credit(cmd.member, cmd.points, t.clock.now, false);
          } else {
            model.spend(cmd.member, -cmd.points);
          }
        }
        break;
      }
      case "replay": {
        if (!lastKeyed) break;
        const body = cmd.changed ? { ...lastKeyed.body, storeId: "another-till" } : lastKeyed.body;
        const res = await t.call("POST", "/v1/purchases", { token: partner.key, body, headers: { "idempotency-key": lastKeyed.key } });
        if (lastKeyed.purged) {
          // The key is forgotten; the receipt id still stops a second purchase.
          expect(await json(res), context).toMatchObject({ status: 409, code: "duplicate_receipt" });
          // That request claimed the forgotten key afresh, with its own body: leave the key be.
          lastKeyed = null;
        } else if (cmd.changed) {
          expect(res.status, context).toBe(422);
          expect((await json<{ code: string }>(res)).code).toBe("idempotency_key_reused");
        } else {
          expect(res.status, context).toBe(201);
          expect(res.headers.get("idempotent-replayed")).toBe("true");
          expect(await json(res), context).toEqual(lastKeyed.response);
        }
        break;
      }
    }
    if (cmd.kind !== "refund" && cmd.kind !== "void" && cmd.kind !== "refundItems") {
      await expectBalance(0, context);
      await expectBalance(1, context);
    }
  }
  await expectLedgerBalanced(t);
  await t.database.close();
}

describe("the points ledger against its model", () => {
  it(`agrees over ${RUNS} runs of ${COMMANDS_PER_RUN} random commands`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(0, 3), fc.array(command, { minLength: COMMANDS_PER_RUN, maxLength: COMMANDS_PER_RUN }), runScenario),
      { numRuns: RUNS, endOnFailure: true },
    );
  }, 600_000);

  afterAll(() => {
    expect(commandsRun).toBeGreaterThanOrEqual(RUNS * COMMANDS_PER_RUN);
  });
});
