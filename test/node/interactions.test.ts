/**
 * Interactions: batches of events from partners and staff, each judged on its own, recognised
 * when resent, and counted once in the profile; the member's history, newest first; and the
 * interactions dangol records itself (enrolment, card scans, tier changes).
 */
import { beforeEach, describe, expect, it } from "vitest";
import { createTestApp, T0, type TestApp } from "../helpers/app.ts";
import { expectStatus, givenCard, givenMember, givenPartner, memberToken, purchase } from "../helpers/factories.ts";

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const iso = (ms: number) => new Date(ms).toISOString();

interface IngestResult {
  accepted: number;
  duplicates: number;
  rejected: number;
  results: Array<{ index: number; eventId: string | null; status: "created" | "duplicate" | "rejected"; interactionId?: string; errors?: Array<{ field: string; message: string }> }>;
}

interface Interaction {
  id: string;
  kind: string;
  channel: string;
  partnerId: string | null;
  storeId: string | null;
  reference: string | null;
  score: number | null;
  attributes: Record<string, unknown> | null;
  source: string | null;
  eventId: string | null;
  occurredAt: string;
}

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});

let seq = 0;
/** A valid event of the member's; `over` spoils or changes what a case needs. */
const event = (memberId: string, over: Record<string, unknown> = {}) => ({
  eventId: `ev-${++seq}`,
  memberId,
  kind: "web_visit",
  channel: "web",
  occurredAt: iso(T0 - HOUR_MS),
  ...over,
});

async function ingest(events: unknown[], token?: string): Promise<IngestResult> {
  const res = await expectStatus(await t.call("POST", "/v1/interactions", { body: { events }, ...(token !== undefined && { token }) }), 200);
  return (await res.json()) as IngestResult;
}

async function history(memberId: string, query = "limit=100", token?: string) {
  const res = await expectStatus(await t.call("GET", `/v1/members/${memberId}/interactions?${query}`, token === undefined ? {} : { token }), 200);
  return (await res.json()) as { items: Interaction[]; nextCursor: string | null };
}

async function profile(memberId: string) {
  const res = await expectStatus(await t.call("GET", `/v1/members/${memberId}/profile?reason=support_call`), 200);
  return ((await res.json()) as { profile: { interactionCount: number; lastInteractionAt: string | null; lastContactAt: string | null; satisfaction: number | null } }).profile;
}

/** A partner with a key that may send interactions. */
async function eventPartner(name = "별빛시네마 강남") {
  const partner = await givenPartner(t, name);
  const res = await expectStatus(await t.call("POST", `/v1/partners/${partner.id}/keys`, { body: { name: "CRM export", scopes: ["interactions:write"] } }), 201);
  return { ...partner, eventKey: ((await res.json()) as { key: string }).key };
}

function rowCount(where: string, ...params: unknown[]): number {
  return (t.database.sqlite.prepare(`SELECT COUNT(*) AS n FROM interactions WHERE ${where}`).get(...params) as { n: number }).n;
}

describe("POST /v1/interactions", () => {
  it("takes 1,000 events in one call, well under a second, and names each bad one's fields", async () => {
    const members = await Promise.all([givenMember(t), givenMember(t), givenMember(t), givenMember(t)]);
    const partner = await eventPartner();
    const kinds = [
      { kind: "call", channel: "call_centre" },
      { kind: "email_open", channel: "email" },
      { kind: "app_open", channel: "app" },
      { kind: "store_visit", channel: "store", partnerId: partner.id },
      { kind: "satisfaction", channel: "app", score: 4 },
    ];
    const events: unknown[] = Array.from({ length: 1_000 }, (_, i) => event(members[i % members.length]!.id, { ...kinds[i % kinds.length], occurredAt: iso(T0 - (i + 1) * MINUTE_MS), attributes: { campaign: "spring", n: i, vip: i % 2 === 0 } }));
    const spoil = (i: number, over: Record<string, unknown>) => (events[i] = { ...(events[i] as object), ...over });
    const bad: Record<number, string[]> = {
      3: ["events.3.occurredAt"],
      7: ["events.7.kind"],
      11: ["events.11.memberId"],
      13: ["events.13.score"],
      17: ["events.17.score"],
      19: ["events.19.attributes.nested"],
      23: ["events.23.attributes"],
      29: ["events.29.discountMinor"],
      31: ["events.31"],
      37: ["events.37.occurredAt"],
      41: ["events.41.channel"],
      43: ["events.43.memberId", "events.43.occurredAt"],
      47: ["events.47.storeId"],
      53: ["events.53.partnerId"],
      59: ["events.59.eventId"],
    };
    spoil(3, { occurredAt: iso(T0 + 6 * MINUTE_MS) }); // more than 5 minutes ahead of the app's clock
    spoil(7, { kind: "purchase" }); // only dangol records purchases
    spoil(11, { memberId: "mem_00000000000000000000000000" });
    spoil(13, { kind: "satisfaction", channel: "app", score: undefined });
    spoil(17, { kind: "call", channel: "call_centre", score: 5 });
    spoil(19, { attributes: { nested: { a: 1 } } });
    spoil(23, { attributes: Object.fromEntries(Array.from({ length: 10 }, (_, k) => [`k${k}`, "x".repeat(300)])) });
    spoil(29, { discountMinor: 100 });
    events[31] = 42;
    spoil(37, { occurredAt: "1999-12-31T23:59:59Z" });
    spoil(41, { kind: "email_open", channel: "sms" });
    spoil(43, { memberId: "mem_00000000000000000000000000", occurredAt: iso(T0 + HOUR_MS) });
    spoil(47, { storeId: "sto_00000000000000000000000000", partnerId: undefined });
    spoil(53, { partnerId: "prt_00000000000000000000000000" });
    spoil(59, { eventId: "has a space" });
    // Sent twice more in the same batch: one recorded, two duplicates.
    const repeated = (events[100] as { eventId: string }).eventId;
    spoil(101, { eventId: repeated });
    spoil(102, { eventId: repeated });

    const started = performance.now();
    const result = await ingest(events);
    const elapsedMs = performance.now() - started;
    expect(elapsedMs).toBeLessThan(1_000);

    const rejected = Object.keys(bad).length;
    expect(result).toMatchObject({ accepted: 1_000 - rejected - 2, duplicates: 2, rejected });
    expect(result.results).toHaveLength(1_000);
    result.results.forEach((r, i) => expect(r.index).toBe(i));
    for (const [index, fields] of Object.entries(bad)) {
      const r = result.results[Number(index)]!;
      expect(r.status, `event ${index}`).toBe("rejected");
      expect(r.errors?.map((e) => e.field).sort(), `event ${index}`).toEqual([...fields].sort());
      for (const e of r.errors!) expect(e.message).toMatch(/\S/);
      expect(r.interactionId).toBeUndefined();
    }
    expect(result.results[31]!.eventId).toBeNull();
    expect(result.results[100]).toMatchObject({ status: "created", eventId: repeated });
    expect(result.results[101]).toMatchObject({ status: "duplicate", eventId: repeated, interactionId: result.results[100]!.interactionId });
    expect(result.results[102]).toMatchObject({ status: "duplicate", interactionId: result.results[100]!.interactionId });
    expect(rowCount("source = 'staff'")).toBe(result.accepted);

    // The same batch again: nothing new, every recorded event a duplicate of itself.
    const counts = await Promise.all(members.map(async (m) => (await profile(m.id)).interactionCount));
    const again = await ingest(events);
    expect(again).toMatchObject({ accepted: 0, duplicates: 1_000 - rejected, rejected });
    again.results.forEach((r, i) => {
      if (result.results[i]!.status !== "rejected") expect(r.interactionId).toBe(result.results[i]!.interactionId);
    });
    expect(rowCount("source = 'staff'")).toBe(result.accepted);
    expect(await Promise.all(members.map(async (m) => (await profile(m.id)).interactionCount))).toEqual(counts);
  });

  it("counts an event once when two calls race to send it", async () => {
    const member = await givenMember(t);
    const events = Array.from({ length: 250 }, (_, i) => event(member.id, { kind: "call", channel: "call_centre", occurredAt: iso(T0 - i * MINUTE_MS) }));
    // Both calls find nothing recorded, then meet at the UNIQUE index when they write.
    const [a, b] = await Promise.all([ingest(events), ingest(events)]);
    expect(a.accepted + b.accepted).toBe(250);
    expect(a.duplicates + b.duplicates).toBe(250);
    for (let i = 0; i < events.length; i++) {
      expect([a.results[i]!.status, b.results[i]!.status].sort()).toEqual(["created", "duplicate"]);
      expect(a.results[i]!.interactionId).toBe(b.results[i]!.interactionId);
    }
    expect(rowCount("member_id = ? AND kind = 'call'", member.id)).toBe(250);
    expect((await profile(member.id)).interactionCount).toBe(1 + 250); // the enrolment and the calls
  });

  it("updates the profile: contacts move last contact, visits only last interaction, scores average", async () => {
    const member = await givenMember(t);
    expect(await profile(member.id)).toMatchObject({ interactionCount: 1, lastInteractionAt: iso(T0), lastContactAt: null, satisfaction: null });
    t.clock.advance(6 * HOUR_MS);
    const now = T0 + 6 * HOUR_MS;
    await ingest([
      event(member.id, { kind: "call", channel: "call_centre", occurredAt: iso(now - 3 * HOUR_MS) }),
      event(member.id, { kind: "satisfaction", channel: "call_centre", score: 4, occurredAt: iso(now - 3 * HOUR_MS + MINUTE_MS) }),
      event(member.id, { kind: "web_visit", channel: "web", occurredAt: iso(now - HOUR_MS) }),
    ]);
    expect(await profile(member.id)).toMatchObject({ interactionCount: 4, lastContactAt: iso(now - 3 * HOUR_MS + MINUTE_MS), lastInteractionAt: iso(now - HOUR_MS), satisfaction: 4 });
    // A late-arriving older complaint does not move last contact back; a second score averages.
    await ingest([
      event(member.id, { kind: "complaint", channel: "store", occurredAt: iso(now - 48 * HOUR_MS) }),
      event(member.id, { kind: "satisfaction", channel: "web", score: 5, occurredAt: iso(now - 30 * MINUTE_MS) }),
    ]);
    expect(await profile(member.id)).toMatchObject({ interactionCount: 6, lastContactAt: iso(now - 30 * MINUTE_MS), lastInteractionAt: iso(now - 30 * MINUTE_MS), satisfaction: 4.5 });
    // Up to five minutes ahead of our clock is a sender's clock running fast, and taken.
    const ahead = await ingest([event(member.id, { kind: "call", channel: "call_centre", occurredAt: iso(now + 5 * MINUTE_MS) })]);
    expect(ahead.accepted).toBe(1);
  });

  it("takes a partner's events for its own partner only, and only with the interactions:write scope", async () => {
    const member = await givenMember(t);
    const cinema = await eventPartner();
    const cafe = await eventPartner("달빛카페");
    const store = (await (await expectStatus(await t.call("POST", `/v1/partners/${cinema.id}/stores`, { body: { code: "GN-01", name: "별빛시네마 강남점" } }), 201)).json()) as { id: string };
    const cafeStore = (await (await expectStatus(await t.call("POST", `/v1/partners/${cafe.id}/stores`, { body: { code: "HJ-01", name: "달빛카페 합정점" } }), 201)).json()) as { id: string };

    const result = await ingest(
      [
        event(member.id, { eventId: "visit-1", kind: "store_visit", channel: "store", storeId: store.id }),
        event(member.id, { eventId: "visit-2", kind: "store_visit", channel: "store", partnerId: cinema.id }),
        event(member.id, { eventId: "visit-3", kind: "store_visit", channel: "store", partnerId: cafe.id }),
        event(member.id, { eventId: "visit-4", kind: "store_visit", channel: "store", storeId: cafeStore.id }),
      ],
      cinema.eventKey,
    );
    expect(result.results.map((r) => r.status)).toEqual(["created", "created", "rejected", "rejected"]);
    expect(result.results[2]!.errors).toEqual([{ field: "events.2.partnerId", message: expect.stringMatching(/own partner/) }]);
    expect(result.results[3]!.errors).toEqual([{ field: "events.3.storeId", message: expect.any(String) }]);
    const visits = (await history(member.id, "kind=store_visit")).items;
    expect(visits.map((v) => [v.eventId, v.partnerId, v.storeId, v.source])).toEqual([
      ["visit-2", cinema.id, null, `partner:${cinema.id}`],
      ["visit-1", cinema.id, store.id, `partner:${cinema.id}`],
    ]);

    // Event ids are the sender's own: another sender's "visit-1" is another event.
    const others = await ingest([event(member.id, { eventId: "visit-1", kind: "store_visit", channel: "store" })], cafe.eventKey);
    expect(others.accepted).toBe(1);
    const staff = await ingest([event(member.id, { eventId: "visit-1", kind: "store_visit", channel: "store", partnerId: cinema.id })]);
    expect(staff.accepted).toBe(1);

    // A key without the scope (the factory's till key) is refused outright, and nothing is written.
    const res = await t.call("POST", "/v1/interactions", { token: cinema.key, body: { events: [event(member.id)] } });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: "forbidden" });
    expect(rowCount("member_id = ? AND source IS NOT NULL", member.id)).toBe(4);
    // Nor may a partner read a member's history.
    expect((await t.call("GET", `/v1/members/${member.id}/interactions`, { token: cinema.eventKey })).status).toBe(403);
  });

  it.each([
    ["a body that is a list", [], ["json"]],
    ["events that are not a list", { events: { eventId: "x" } }, ["events"]],
    ["no events", { events: [] }, ["events"]],
    ["1,001 events", { events: Array.from({ length: 1_001 }, () => ({})) }, ["events"]],
    ["an unknown field next to events", { events: [{}], source: "crm" }, ["source"]],
  ])("refuses %s as a whole with 400", async (_, body, fields) => {
    const res = await t.call("POST", "/v1/interactions", { body });
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { code: string; errors: Array<{ field: string }> };
    expect(problem.code).toBe("validation_failed");
    expect([...new Set(problem.errors.map((e) => e.field))]).toEqual(fields);
  });
});

describe("GET /v1/members/{memberId}/interactions", () => {
  it("lists newest first by when it happened, pages by cursor, filters by kind; the member reads their own", async () => {
    const member = await givenMember(t);
    const other = await givenMember(t);
    await ingest([
      event(member.id, { eventId: "c-1", kind: "call", channel: "call_centre", occurredAt: iso(T0 - 5 * HOUR_MS), reference: "TICKET-9" }),
      event(member.id, { eventId: "s-1", kind: "satisfaction", channel: "call_centre", score: 2, attributes: { agent: "A-17", resolved: false }, occurredAt: iso(T0 - 4 * HOUR_MS) }),
      event(member.id, { eventId: "w-1", kind: "web_visit", channel: "web", occurredAt: iso(T0 - 6 * HOUR_MS) }),
      event(member.id, { eventId: "c-2", kind: "call", channel: "call_centre", occurredAt: iso(T0 - 2 * HOUR_MS) }),
    ]);
    const all = await history(member.id);
    expect(all.items.map((i) => i.eventId ?? i.kind)).toEqual(["enrolment", "c-2", "s-1", "c-1", "w-1"]);
    expect(all.items.find((i) => i.eventId === "s-1")).toMatchObject({ kind: "satisfaction", score: 2, attributes: { agent: "A-17", resolved: false }, source: "staff" });
    expect(all.items.find((i) => i.eventId === "c-1")).toMatchObject({ reference: "TICKET-9", score: null, attributes: null });

    const calls = await history(member.id, "kind=call");
    expect(calls.items.map((i) => i.eventId)).toEqual(["c-2", "c-1"]);

    const walked: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await history(member.id, `limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      walked.push(...page.items.map((i) => i.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(walked).toEqual(all.items.map((i) => i.id));

    const token = await memberToken(t, member);
    expect((await history(member.id, "limit=100", token)).items).toHaveLength(5);
    expect((await t.call("GET", `/v1/members/${other.id}/interactions`, { token })).status).toBe(403);
    expect((await t.call("GET", "/v1/members/mem_00000000000000000000000000/interactions")).status).toBe(404);
    expect((await t.call("GET", `/v1/members/${member.id}/interactions?kind=fax`)).status).toBe(400);
  });
});

describe("interactions dangol records itself", () => {
  it("records the enrolment, each card scan at a till and a tier change, each with its share of the profile", async () => {
    const member = await givenMember(t);
    const card = await givenCard(t, member.id);
    const partner = await givenPartner(t);
    expect((await history(member.id)).items.map((i) => [i.kind, i.channel])).toEqual([["enrolment", "system"]]);

    t.clock.advance(MINUTE_MS);
    await expectStatus(await t.call("POST", "/v1/cards/verify", { token: partner.key, body: { cardNumber: card.number } }), 200);
    const [scan] = (await history(member.id, "kind=card_scan")).items;
    expect(scan).toMatchObject({ channel: "store", partnerId: partner.id, reference: card.number, attributes: { presented: "card_number" }, occurredAt: iso(T0 + MINUTE_MS) });

    // 1% of ₩500,000 is 5,000 points: silver.
    t.clock.advance(MINUTE_MS);
    await expectStatus(await purchase(t, partner, card, { amountMinor: 500_000 }), 201);
    const [change] = (await history(member.id, "kind=tier_change")).items;
    expect(change).toMatchObject({ channel: "system", attributes: { fromTier: "basic", toTier: "silver", reason: "upgrade", qualifyingPoints: 5_000 } });
    const tier = (await (await expectStatus(await t.call("GET", `/v1/members/${member.id}/tier`), 200)).json()) as { history: Array<{ id?: string }> };
    expect(tier.history).toHaveLength(1);

    expect((await history(member.id)).items.map((i) => i.kind).sort()).toEqual(["card_scan", "enrolment", "purchase", "tier_change"]);
    // None of them is a contact; each is an interaction.
    expect(await profile(member.id)).toMatchObject({ interactionCount: 4, lastContactAt: null, lastInteractionAt: iso(T0 + 2 * MINUTE_MS) });
  });
});
