import { describe, expect, it } from "vitest";
import { isValidLuhn } from "../../src/domain/luhn.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { expectStatus, givenCard, givenMember, givenStaff, memberToken } from "../helpers/factories.ts";

interface Card {
  number: string;
  memberId: string;
  status: "active" | "blocked" | "lost" | "replaced";
  replacedBy: string | null;
  issuedAt: string;
  statusChangedAt: string;
}

interface Problem {
  status: number;
  code: string;
  detail: string;
  requestId: string;
  memberId?: string;
}

interface AuditRow {
  actor_type: string;
  actor_id: string;
  action: string;
  target_type: string;
  target_id: string;
  at: number;
}

async function problem(res: Response, status: number) {
  await expectStatus(res, status);
  expect(res.headers.get("content-type")).toContain("application/problem+json");
  return (await res.json()) as Problem & Record<string, unknown>;
}

async function cardOf(t: TestApp, number: string): Promise<Card> {
  return (await (await expectStatus(await t.call("GET", `/v1/cards/${number}`), 200)).json()) as Card;
}

async function block(t: TestApp, number: string, reason?: "blocked" | "lost") {
  return t.call("POST", `/v1/cards/${number}/block`, reason ? { body: { reason } } : {});
}

async function replace(t: TestApp, number: string) {
  return t.call("POST", `/v1/cards/${number}/replace`);
}

async function verifyNumber(t: TestApp, cardNumber: string) {
  return t.call("POST", "/v1/cards/verify", { body: { cardNumber } });
}

function cardIdOf(t: TestApp, number: string): string {
  return (t.database.sqlite.prepare("select id from cards where number = ?").get(number) as { id: string }).id;
}

function auditFor(t: TestApp, targetId: string): AuditRow[] {
  return t.database.sqlite
    .prepare("select actor_type, actor_id, action, target_type, target_id, at from audit_log where target_id = ? order by at, id")
    .all(targetId) as AuditRow[];
}

describe("issuing a card", () => {
  it("issues an active 16-digit, Luhn-valid card to the member", async () => {
    const t = await createTestApp();
    const member = await givenMember(t);
    const res = await expectStatus(await t.call("POST", `/v1/members/${member.id}/cards`), 201);
    const card = (await res.json()) as Card;
    const at = new Date(t.clock.now).toISOString();
    expect(card).toEqual({ number: expect.stringMatching(/^\d{16}$/), memberId: member.id, status: "active", replacedBy: null, issuedAt: at, statusChangedAt: at });
    expect(isValidLuhn(card.number)).toBe(true);
    expect(await cardOf(t, card.number)).toEqual(card);
  });

  it("gives every card its own number", async () => {
    const t = await createTestApp();
    const numbers = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const member = await givenMember(t, { email: `card${i}@example.com`, phone: null });
      const card = await givenCard(t, member.id);
      expect(isValidLuhn(card.number), card.number).toBe(true);
      expect(card.number).toMatch(/^\d{16}$/);
      numbers.add(card.number);
    }
    expect(numbers.size).toBe(30);
  });

  it("refuses a second card while one is active (409 active_card_exists)", async () => {
    const t = await createTestApp();
    const member = await givenMember(t);
    const first = await givenCard(t, member.id);
    const p = await problem(await t.call("POST", `/v1/members/${member.id}/cards`), 409);
    expect(p.code).toBe("active_card_exists");
    const list = (await (await t.call("GET", `/v1/members/${member.id}/cards`)).json()) as { items: Card[] };
    expect(list.items.map((c) => c.number)).toEqual([first.number]);
  });

  it("answers 404 for an unknown member", async () => {
    const t = await createTestApp();
    const p = await problem(await t.call("POST", "/v1/members/mem_01JD0000000000000000000000/cards"), 404);
    expect(p.code).toBe("not_found");
  });

  it("answers 404 card_not_found for an unknown card number", async () => {
    const t = await createTestApp();
    const p = await problem(await t.call("GET", "/v1/cards/9410000000000000"), 404);
    expect(p.code).toBe("card_not_found");
  });
});

describe("blocking and unblocking", () => {
  it("blocks a card without a body, and unblocks it", async () => {
    const t = await createTestApp();
    const member = await givenMember(t);
    const card = (await givenCard(t, member.id)) as Card;
    t.clock.advance(60_000);
    const blocked = (await (await expectStatus(await block(t, card.number), 200)).json()) as Card;
    expect(blocked).toMatchObject({ number: card.number, status: "blocked", statusChangedAt: new Date(t.clock.now).toISOString(), issuedAt: card.issuedAt });
    expect((await cardOf(t, card.number)).status).toBe("blocked");

    const refused = await problem(await verifyNumber(t, card.number), 409);
    expect(refused.code).toBe("card_blocked");

    t.clock.advance(60_000);
    const unblocked = (await (await expectStatus(await t.call("POST", `/v1/cards/${card.number}/unblock`), 200)).json()) as Card;
    expect(unblocked).toMatchObject({ status: "active", statusChangedAt: new Date(t.clock.now).toISOString() });
    await expectStatus(await verifyNumber(t, card.number), 200);
  });

  it("blocks with reason 'blocked' explicitly", async () => {
    const t = await createTestApp();
    const card = await givenCard(t, (await givenMember(t)).id);
    const blocked = (await (await expectStatus(await block(t, card.number, "blocked"), 200)).json()) as Card;
    expect(blocked.status).toBe("blocked");
  });

  it("records a lost card, which cannot be unblocked, only replaced (409 card_state_conflict)", async () => {
    const t = await createTestApp();
    const card = await givenCard(t, (await givenMember(t)).id);
    const lost = (await (await expectStatus(await block(t, card.number, "lost"), 200)).json()) as Card;
    expect(lost.status).toBe("lost");
    const p = await problem(await t.call("POST", `/v1/cards/${card.number}/unblock`), 409);
    expect(p.code).toBe("card_state_conflict");
    expect((await cardOf(t, card.number)).status).toBe("lost");
    const refused = await problem(await verifyNumber(t, card.number), 409);
    expect(refused.code).toBe("card_blocked");
  });

  it("unblocks only a blocked card: an active one is a conflict", async () => {
    const t = await createTestApp();
    const card = await givenCard(t, (await givenMember(t)).id);
    const p = await problem(await t.call("POST", `/v1/cards/${card.number}/unblock`), 409);
    expect(p.code).toBe("card_state_conflict");
  });

  it("does not block a card twice", async () => {
    const t = await createTestApp();
    const card = await givenCard(t, (await givenMember(t)).id);
    await expectStatus(await block(t, card.number), 200);
    const again = await problem(await block(t, card.number, "lost"), 409);
    expect(again.code).toBe("card_state_conflict");
    expect((await cardOf(t, card.number)).status).toBe("blocked");
  });

  it("rejects an unknown reason", async () => {
    const t = await createTestApp();
    const card = await givenCard(t, (await givenMember(t)).id);
    const p = await problem(await block(t, card.number, "stolen" as "lost"), 400);
    expect(p.code).toBe("validation_failed");
    expect((await cardOf(t, card.number)).status).toBe("active");
  });

  it("lets a member report their own card lost", async () => {
    const t = await createTestApp();
    const member = await givenMember(t);
    const card = await givenCard(t, member.id);
    const token = await memberToken(t, member);
    t.clock.advance(1000);
    const res = await expectStatus(await t.call("POST", `/v1/cards/${card.number}/block`, { token, body: { reason: "lost" } }), 200);
    expect(((await res.json()) as Card).status).toBe("lost");
    const audit = auditFor(t, cardIdOf(t, card.number));
    expect(audit.map((a) => a.action)).toEqual(["card.issue", "card.report_lost"]);
    expect(audit.at(-1)).toMatchObject({ actor_type: "member", actor_id: member.id, action: "card.report_lost" });
  });
});

describe("replacing a card", () => {
  it("retires the old number and issues a new active card to the same member", async () => {
    const t = await createTestApp();
    const member = await givenMember(t);
    const old = await givenCard(t, member.id);
    t.database.sqlite.prepare("update member_balances set available = 4200 where member_id = ?").run(member.id);
    t.clock.advance(3_600_000);

    const res = await expectStatus(await replace(t, old.number), 201);
    const fresh = (await res.json()) as Card;
    const at = new Date(t.clock.now).toISOString();
    expect(fresh).toEqual({ number: expect.stringMatching(/^\d{16}$/), memberId: member.id, status: "active", replacedBy: null, issuedAt: at, statusChangedAt: at });
    expect(fresh.number).not.toBe(old.number);
    expect(isValidLuhn(fresh.number)).toBe(true);

    expect(await cardOf(t, old.number)).toEqual({ ...old, status: "replaced", replacedBy: fresh.number, statusChangedAt: at });
    expect(await cardOf(t, fresh.number)).toEqual(fresh);

    // Same member, same balance row: the new number presents with the balance the old one had.
    const verified = await expectStatus(await verifyNumber(t, fresh.number), 200);
    expect(await verified.json()).toEqual({ memberId: member.id, cardNumber: fresh.number, displayName: "김*준", tier: "basic", balance: { available: 4200 }, offers: [] });
    const balances = t.database.sqlite.prepare("select count(*) as n from member_balances where member_id = ?").get(member.id) as { n: number };
    expect(balances.n).toBe(1);

    const dead = await problem(await verifyNumber(t, old.number), 409);
    expect(dead.code).toBe("card_replaced");
  });

  it.each(["blocked", "lost"] as const)("replaces a %s card", async (reason) => {
    const t = await createTestApp();
    const member = await givenMember(t);
    const old = await givenCard(t, member.id);
    await expectStatus(await block(t, old.number, reason), 200);
    const fresh = (await (await expectStatus(await replace(t, old.number), 201)).json()) as Card;
    expect(fresh.status).toBe("active");
    expect(await cardOf(t, old.number)).toMatchObject({ status: "replaced", replacedBy: fresh.number });
    await expectStatus(await verifyNumber(t, fresh.number), 200);
  });

  it("refuses to replace a replaced card (409 card_replaced)", async () => {
    const t = await createTestApp();
    const member = await givenMember(t);
    const old = await givenCard(t, member.id);
    const fresh = (await (await expectStatus(await replace(t, old.number), 201)).json()) as Card;
    const p = await problem(await replace(t, old.number), 409);
    expect(p.code).toBe("card_replaced");
    const list = (await (await t.call("GET", `/v1/members/${member.id}/cards`)).json()) as { items: Card[] };
    expect(list.items.filter((c) => c.status === "active").map((c) => c.number)).toEqual([fresh.number]);
  });

  it("refuses to block or unblock a replaced card", async () => {
    const t = await createTestApp();
    const old = await givenCard(t, (await givenMember(t)).id);
    await expectStatus(await replace(t, old.number), 201);
    expect((await problem(await block(t, old.number), 409)).code).toBe("card_state_conflict");
    expect((await problem(await t.call("POST", `/v1/cards/${old.number}/unblock`), 409)).code).toBe("card_state_conflict");
  });

  it("keeps one active card per member when a blocked card is replaced after a new card was issued", async () => {
    const t = await createTestApp();
    const member = await givenMember(t);
    const blocked = await givenCard(t, member.id);
    t.clock.advance(1000);
    await expectStatus(await block(t, blocked.number), 200);
    t.clock.advance(1000);
    const second = await givenCard(t, member.id);

    const p = await problem(await replace(t, blocked.number), 409);
    expect(p.code).toBe("active_card_exists");
    // Nothing changed: the blocked card is still blocked, the second card still the only active one.
    expect((await cardOf(t, blocked.number)).status).toBe("blocked");
    const list = (await (await t.call("GET", `/v1/members/${member.id}/cards`)).json()) as { items: Card[] };
    expect(list.items).toHaveLength(2);
    expect(list.items.filter((c) => c.status === "active").map((c) => c.number)).toEqual([second.number]);
    // Unblocking it would make two active cards too.
    const unblock = await problem(await t.call("POST", `/v1/cards/${blocked.number}/unblock`), 409);
    expect(unblock.code).toBe("active_card_exists");
    expect(auditFor(t, cardIdOf(t, blocked.number)).map((a) => a.action)).toEqual(["card.issue", "card.block"]);
  });
});

describe("a member's card history", () => {
  async function history(t: TestApp) {
    const member = await givenMember(t);
    const first = await givenCard(t, member.id);
    t.clock.advance(1000);
    const second = (await (await expectStatus(await replace(t, first.number), 201)).json()) as Card;
    t.clock.advance(1000);
    await expectStatus(await block(t, second.number, "lost"), 200);
    t.clock.advance(1000);
    const third = (await (await expectStatus(await replace(t, second.number), 201)).json()) as Card;
    return { member, first, second, third };
  }

  it("lists every card, newest first, with the successor numbers", async () => {
    const t = await createTestApp();
    const { member, first, second, third } = await history(t);
    const res = await expectStatus(await t.call("GET", `/v1/members/${member.id}/cards`), 200);
    const page = (await res.json()) as { items: Card[]; nextCursor: string | null };
    expect(page.nextCursor).toBeNull();
    expect(page.items.map((c) => [c.number, c.status, c.replacedBy])).toEqual([
      [third.number, "active", null],
      [second.number, "replaced", third.number],
      [first.number, "replaced", second.number],
    ]);
    expect(page.items.every((c) => c.memberId === member.id)).toBe(true);
  });

  it("pages the history and still names each successor", async () => {
    const t = await createTestApp();
    const { member, first, second, third } = await history(t);
    const seen: Card[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=1&cursor=${cursor}` : "?limit=1";
      const page = (await (await expectStatus(await t.call("GET", `/v1/members/${member.id}/cards${query}`), 200)).json()) as { items: Card[]; nextCursor: string | null };
      expect(page.items).toHaveLength(1);
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.map((c) => [c.number, c.replacedBy])).toEqual([
      [third.number, null],
      [second.number, third.number],
      [first.number, second.number],
    ]);
  });

  it("lets a member read their own history but not another member's", async () => {
    const t = await createTestApp();
    const { member } = await history(t);
    const other = await givenMember(t);
    const token = await memberToken(t, member);
    await expectStatus(await t.call("GET", `/v1/members/${member.id}/cards`, { token }), 200);
    expect((await problem(await t.call("GET", `/v1/members/${other.id}/cards`, { token }), 403)).code).toBe("forbidden");
  });

  it("answers 404 for an unknown member", async () => {
    const t = await createTestApp();
    expect((await problem(await t.call("GET", "/v1/members/mem_01JD0000000000000000000000/cards"), 404)).code).toBe("not_found");
  });
});

describe("the audit trail of card actions", () => {
  it("records issue, block, unblock, report_lost and replace with actor and time", async () => {
    const t = await createTestApp();
    const member = await givenMember(t);
    const start = t.clock.now;
    const card = await givenCard(t, member.id);
    t.clock.advance(1000);
    await expectStatus(await block(t, card.number), 200);
    t.clock.advance(1000);
    await expectStatus(await t.call("POST", `/v1/cards/${card.number}/unblock`), 200);
    t.clock.advance(1000);
    await expectStatus(await block(t, card.number, "lost"), 200);
    t.clock.advance(1000);
    const fresh = (await (await expectStatus(await replace(t, card.number), 201)).json()) as Card;

    const rows = auditFor(t, cardIdOf(t, card.number));
    expect(rows.map((r) => [r.action, r.at - start])).toEqual([
      ["card.issue", 0],
      ["card.block", 1000],
      ["card.unblock", 2000],
      ["card.report_lost", 3000],
      ["card.replace", 4000],
    ]);
    for (const row of rows) {
      expect(row).toMatchObject({ actor_type: "admin", actor_id: "bootstrap-admin", target_type: "card" });
    }
    // The successor came into being through the replacement; its id is not a secret number.
    expect(cardIdOf(t, fresh.number)).toMatch(/^crd_/);
    const all = t.database.sqlite.prepare("select * from audit_log").all() as Record<string, unknown>[];
    expect(JSON.stringify(all)).not.toContain(card.number);
  });

  it("names the staff user who acted", async () => {
    const t = await createTestApp();
    const staff = await givenStaff(t, "admin");
    const staffId = (t.database.sqlite.prepare("select id from staff_users where email = ?").get(staff.email) as { id: string }).id;
    const member = await givenMember(t);
    const card = (await (await expectStatus(await t.call("POST", `/v1/members/${member.id}/cards`, { token: staff.token }), 201)).json()) as Card;
    t.clock.advance(1000);
    await expectStatus(await t.call("POST", `/v1/cards/${card.number}/block`, { token: staff.token }), 200);
    const rows = auditFor(t, cardIdOf(t, card.number));
    expect(rows.map((r) => [r.action, r.actor_type, r.actor_id])).toEqual([
      ["card.issue", "admin", staffId],
      ["card.block", "admin", staffId],
    ]);
  });

  it("records nothing for a refused action", async () => {
    const t = await createTestApp();
    const card = await givenCard(t, (await givenMember(t)).id);
    await problem(await t.call("POST", `/v1/cards/${card.number}/unblock`), 409);
    expect(auditFor(t, cardIdOf(t, card.number)).map((r) => r.action)).toEqual(["card.issue"]);
  });
});
