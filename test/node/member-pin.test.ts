/**
 * Spending points needs the member at the till: the QR token, or a typed number with the
 * member's PIN — set in the wallet, stored hashed, locked after 5 wrong entries in a row, however
 * many arrive at once. Earning on a typed number needs neither; a program may accept the risk.
 */
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { memberPins } from "../../db/schema.ts";
import { defaultProgram } from "../../src/domain/program.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { expectLedgerBalanced, expectStatus, givenCard, givenMember, givenPartner, givenStaff, memberToken, purchase } from "../helpers/factories.ts";

const PIN = "583071";
const WRONG = "692804";

let t: TestApp;

interface Till {
  member: { id: string; email: string | null };
  card: { number: string };
  partner: { id: string; key: string };
  memberJwt: string;
}

/** A member with 1,000 points and a PIN, and a partner's till. */
async function setup(): Promise<Till> {
  t = await createTestApp();
  const member = await givenMember(t);
  const card = await givenCard(t, member.id);
  const partner = await givenPartner(t);
  await expectStatus(await t.call("POST", `/v1/members/${member.id}/adjustments`, { body: { points: 1_000, reason: "opening balance" } }), 201);
  const memberJwt = await memberToken(t, member);
  await expectStatus(await setPin(memberJwt, PIN), 204);
  return { member, card, partner, memberJwt };
}

const setPin = (memberJwt: string, pin: string) => t.call("PUT", "/v1/me/pin", { token: memberJwt, body: { pin } });

/** A sale of ₩10,000 spending 300 points, the card typed by hand with the PIN given (or not). */
function redeem(s: Till, pin?: string, extra: Record<string, unknown> = {}) {
  return purchase(t, s.partner, s.card, { card: { number: s.card.number, ...(pin && { pin }) }, amountMinor: 10_000, redeemPoints: 300, ...extra });
}

async function codeOf(res: Response, status: number) {
  return ((await (await expectStatus(res, status)).json()) as { code: string }).code;
}

async function available(s: Till) {
  return ((await (await t.call("GET", `/v1/members/${s.member.id}/balance`)).json()) as { available: number }).available;
}

async function pinOf(memberId: string, token?: string) {
  return ((await (await expectStatus(await t.call("GET", `/v1/members/${memberId}`, { token }), 200)).json()) as { pin: { set: boolean; locked: boolean } }).pin;
}

afterEach(async () => {
  if (t) await expectLedgerBalanced(t);
});

describe("spending points on a typed card number", () => {
  it("is refused without the PIN, naming what would do, and moves nothing", async () => {
    const s = await setup();
    const res = await expectStatus(await redeem(s), 422);
    expect(await res.json()).toMatchObject({ code: "member_presence_required", accepted: ["card.token", "card.pin"] });
    expect(await available(s)).toBe(1_000);
  });

  it("is refused for a reward paid in points too", async () => {
    const s = await setup();
    const reward = { kind: "points_reward", pointsCost: 500, rewardValueMinor: 4_500 };
    const offer = (await (await expectStatus(await t.call("POST", "/v1/offers", { body: { name: "Free drink", partnerId: s.partner.id, reward } }), 201)).json()) as { id: string };
    const sale = { card: { number: s.card.number }, amountMinor: 10_000, offerIds: [offer.id] };
    expect(await codeOf(await purchase(t, s.partner, s.card, sale), 422)).toBe("member_presence_required");
    const paid = await expectStatus(await purchase(t, s.partner, s.card, { ...sale, card: { number: s.card.number, pin: PIN } }), 201);
    expect(await paid.json()).toMatchObject({ pointsRedeemed: 500 });
  });

  it("goes through with the member's PIN", async () => {
    const s = await setup();
    const res = await expectStatus(await redeem(s, PIN), 201);
    expect(await res.json()).toMatchObject({ pointsRedeemed: 300, payableMinor: 9_700, pointsEarned: 97, balance: { available: 1_000 - 300 + 97 } });
  });

  it("still earns without a PIN", async () => {
    const s = await setup();
    const res = await expectStatus(await purchase(t, s.partner, s.card, { amountMinor: 12_345 }), 201);
    expect(await res.json()).toMatchObject({ pointsEarned: 123, pointsRedeemed: 0, balance: { available: 1_123 } });
  });

  it("with the QR token needs no PIN", async () => {
    const s = await setup();
    const minted = (await (await expectStatus(await t.call("GET", "/v1/me/card/token", { token: s.memberJwt }), 200)).json()) as { token: string };
    const res = await expectStatus(await purchase(t, s.partner, s.card, { card: { token: minted.token }, amountMinor: 10_000, redeemPoints: 300 }), 201);
    expect(await res.json()).toMatchObject({ pointsRedeemed: 300 });
  });

  it("is allowed without a PIN where the program accepts the risk (redemption.allowTypedNumber)", async () => {
    const s = await setup();
    const program = { ...defaultProgram, redemption: { allowTypedNumber: true } };
    await expectStatus(await t.call("PUT", "/v1/program", { body: program }), 200);
    expect(await (await t.call("GET", "/v1/program")).json()).toMatchObject({ program: { redemption: { allowTypedNumber: true } } });
    expect(await (await expectStatus(await redeem(s), 201)).json()).toMatchObject({ pointsRedeemed: 300 });
    // Rules sent without the setting are the default again: typed-number spending refused.
    await expectStatus(await t.call("PUT", "/v1/program", { body: { ...defaultProgram, redemption: {} } }), 200);
    expect(await codeOf(await redeem(s), 422)).toBe("member_presence_required");
  });

  it("is quoted only with the PIN, which the quote checks and counts as the purchase does", async () => {
    const s = await setup();
    const quote = (pin?: string) =>
      t.call("POST", "/v1/purchases/quote", { token: s.partner.key, body: { card: { number: s.card.number, ...(pin && { pin }) }, receiptId: "Q-1", amountMinor: 10_000, currency: "KRW", redeemPoints: 300 } });
    expect(await codeOf(await quote(), 422)).toBe("member_presence_required");
    expect(await (await expectStatus(await quote(PIN), 200)).json()).toMatchObject({ pointsRedeemed: 300, payableMinor: 9_700 });
    for (let i = 0; i < 5; i++) expect(await codeOf(await quote(WRONG), 422)).toBe("pin_invalid");
    expect(await codeOf(await redeem(s, PIN), 422)).toBe("pin_locked");
  });
});

describe("the PIN's attempt limit", () => {
  it("counts wrong PINs, locks after 5 in a row — then refuses even the right one — until the member sets a new PIN", async () => {
    const s = await setup();
    for (let i = 0; i < 5; i++) expect(await codeOf(await redeem(s, WRONG), 422)).toBe("pin_invalid");
    expect(await pinOf(s.member.id)).toEqual({ set: true, locked: true });
    expect(await codeOf(await redeem(s, PIN), 422)).toBe("pin_locked");
    expect(await available(s)).toBe(1_000);
    await expectStatus(await setPin(s.memberJwt, "260419"), 204);
    expect(await pinOf(s.member.id)).toEqual({ set: true, locked: false });
    expect(await codeOf(await redeem(s, PIN), 422)).toBe("pin_invalid");
    await expectStatus(await redeem(s, "260419"), 201);
  });

  it("starts again after a right PIN: only wrong ones in a row lock it", async () => {
    const s = await setup();
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 4; i++) expect(await codeOf(await redeem(s, WRONG), 422)).toBe("pin_invalid");
      await expectStatus(await redeem(s, PIN), 201);
    }
  });

  it("holds when 15 wrong PINs arrive at once: 5 are compared, the rest refused, and then the right one too", async () => {
    const s = await setup();
    const codes = await Promise.all(Array.from({ length: 15 }, () => redeem(s, WRONG).then((res) => codeOf(res, 422))));
    expect(codes.filter((c) => c === "pin_invalid")).toHaveLength(5);
    expect(codes.filter((c) => c === "pin_locked")).toHaveLength(10);
    expect(await codeOf(await redeem(s, PIN), 422)).toBe("pin_locked");
    const [row] = await t.database.db.select().from(memberPins).where(eq(memberPins.memberId, s.member.id));
    expect(row!.failedAttempts).toBe(5);
    expect(await available(s)).toBe(1_000);
  });

  it("counts an earning-only sale's wrong PIN too: a PIN sent is always checked", async () => {
    const s = await setup();
    expect(await codeOf(await purchase(t, s.partner, s.card, { card: { number: s.card.number, pin: WRONG } }), 422)).toBe("pin_invalid");
    const [row] = await t.database.db.select().from(memberPins).where(eq(memberPins.memberId, s.member.id));
    expect(row!.failedAttempts).toBe(1);
  });

  it("answers a PIN for a member who has none as a wrong PIN", async () => {
    const s = await setup();
    await expectStatus(await t.call("DELETE", "/v1/me/pin", { token: s.memberJwt }), 204);
    expect(await codeOf(await redeem(s, PIN), 422)).toBe("pin_invalid");
  });

  it("lets the sale be retried under the same Idempotency-Key once the right PIN is entered", async () => {
    const s = await setup();
    const headers = { "idempotency-key": "till-7-000123" };
    const sale = { card: { number: s.card.number, pin: WRONG }, receiptId: "R-123", amountMinor: 10_000, redeemPoints: 300 };
    expect(await codeOf(await purchase(t, s.partner, s.card, sale, headers), 422)).toBe("pin_invalid");
    const paid = await expectStatus(await purchase(t, s.partner, s.card, { ...sale, card: { number: s.card.number, pin: PIN } }, headers), 201);
    expect(paid.headers.get("idempotent-replayed")).toBeNull();
    // The stored record's fingerprint leaves the PIN out, so it cannot be found from it.
    const replay = await expectStatus(await purchase(t, s.partner, s.card, { ...sale, card: { number: s.card.number, pin: PIN } }, headers), 201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
  });
});

describe("setting and removing the PIN", () => {
  it("is the member's own, in self-service; the record says only whether it is set and locked", async () => {
    t = await createTestApp();
    const member = await givenMember(t);
    const other = await givenMember(t);
    const jwt = await memberToken(t, member);
    expect(await pinOf(member.id, jwt)).toEqual({ set: false, locked: false });
    await expectStatus(await setPin(jwt, PIN), 204);
    expect(await pinOf(member.id, jwt)).toEqual({ set: true, locked: false });
    expect(await pinOf(other.id)).toEqual({ set: false, locked: false });
    const me = await (await t.call("GET", "/v1/me", { token: jwt })).text();
    expect(JSON.parse(me)).toMatchObject({ id: member.id, pin: { set: true, locked: false } });
    expect(me).not.toContain("pbkdf2");
    const [row] = await t.database.db.select().from(memberPins).where(eq(memberPins.memberId, member.id));
    expect(row!.pinHash).toMatch(/^pbkdf2-sha256\$100000\$/);
    expect(row!.pinHash).not.toContain(PIN);
    await expectStatus(await t.call("DELETE", "/v1/me/pin", { token: jwt }), 204);
    expect(await pinOf(member.id, jwt)).toEqual({ set: false, locked: false });
  });

  it.each([
    ["0000", "repeat"],
    ["111111", "repeat"],
    ["1212", "repeat"],
    ["123123", "repeat"],
    ["1234", "run"],
    ["123456", "run"],
    ["9876", "run"],
    ["7890", "run"],
    ["1004", "first anyone would try"],
  ])("refuses the guessable PIN %s (%s)", async (pin, why) => {
    t = await createTestApp();
    const jwt = await memberToken(t, await givenMember(t));
    const res = await expectStatus(await setPin(jwt, pin), 400);
    const problem = (await res.json()) as { code: string; errors: Array<{ field: string; message: string }> };
    expect(problem.code).toBe("validation_failed");
    expect(problem.errors).toEqual([{ field: "pin", message: expect.stringContaining(why) }]);
  });

  it.each(["123", "1234567", "12a4", "", " 5830"])("refuses %j: a PIN is 4 to 6 digits", async (pin) => {
    t = await createTestApp();
    const jwt = await memberToken(t, await givenMember(t));
    const res = await expectStatus(await setPin(jwt, pin), 400);
    expect(await res.json()).toMatchObject({ code: "validation_failed", errors: [{ field: "pin" }] });
  });

  it("may not be done by a partner or staff: an admin only clears one, audited", async () => {
    const s = await setup();
    const marketer = await givenStaff(t, "marketer");
    for (const token of [s.partner.key, marketer.token, undefined]) {
      expect((await t.call("PUT", "/v1/me/pin", { token, body: { pin: "260419" } })).status).toBe(403);
      expect((await t.call("DELETE", "/v1/me/pin", { token })).status).toBe(403);
    }
    for (const token of [s.partner.key, marketer.token, s.memberJwt]) {
      expect((await t.call("DELETE", `/v1/members/${s.member.id}/pin`, { token })).status).toBe(403);
    }
    await expectStatus(await redeem(s, PIN), 201);
    for (let i = 0; i < 5; i++) await redeem(s, WRONG);
    expect(await pinOf(s.member.id)).toEqual({ set: true, locked: true });
    await expectStatus(await t.call("DELETE", `/v1/members/${s.member.id}/pin`), 204);
    expect(await pinOf(s.member.id)).toEqual({ set: false, locked: false });
    const audit = await t.database.sqlite.prepare("SELECT action, target_id FROM audit_log WHERE action = 'member.pin.clear'").all();
    expect(audit).toEqual([{ action: "member.pin.clear", target_id: s.member.id }]);
    expect((await t.call("DELETE", "/v1/members/mem_00000000000000000000000000/pin")).status).toBe(404);
  });
});

describe("the PIN in logs", () => {
  it("never appears, whether set, entered right or wrong, or malformed", async () => {
    const s = await setup();
    await expectStatus(await redeem(s, PIN), 201);
    await redeem(s, WRONG);
    await setPin(s.memberJwt, "1234");
    await t.call("POST", "/v1/purchases", { token: s.partner.key, body: { card: { number: s.card.number, pin: "58307x" }, receiptId: "X", amountMinor: 1, currency: "KRW" } });
    const text = t.logs.join("\n");
    expect(t.logs.length).toBeGreaterThan(5);
    for (const pin of [PIN, WRONG, "58307x"]) expect(text).not.toContain(pin);
  });
});
