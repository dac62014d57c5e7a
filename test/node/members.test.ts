import { describe, expect, it } from "vitest";
import type { Problem } from "../../src/errors.ts";
import type { Member } from "../../src/routes/members/schemas.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { expectStatus, givenCard } from "../helpers/factories.ts";



interface Page {
  items: Member[];
  nextCursor: string | null;
}

async function enrol(t: TestApp, body: Record<string, unknown>): Promise<Member> {
  const res = await expectStatus(await t.call("POST", "/v1/members", { body }), 201);
  return (await res.json()) as Member;
}

async function problem(res: Response, status: number): Promise<Problem> {
  await expectStatus(res, status);
  expect(res.headers.get("content-type")).toContain("application/problem+json");
  return (await res.json()) as Problem;
}

async function search(t: TestApp, query: Record<string, string>): Promise<Page> {
  const res = await expectStatus(await t.call("GET", `/v1/members?${new URLSearchParams(query)}`), 200);
  return (await res.json()) as Page;
}

const ids = (page: Page) => page.items.map((m) => m.id).sort();

describe("enrolment", () => {
  it("stores every field and returns the stored member", async () => {
    const t = await createTestApp();
    const res = await t.call("POST", "/v1/members", {
      body: {
        name: "김민준",
        preferredName: "민준",
        email: "minjun@example.com",
        phone: "010-1234-5678",
        birthDate: "1991-04-12",
        gender: "male",
        region: "서울 강남구",
      },
    });
    await expectStatus(res, 201);
    const created = (await res.json()) as Member;
    expect(created).toEqual({
      id: expect.stringMatching(/^mem_[0-9A-Z]{26}$/),
      name: "김민준",
      preferredName: "민준",
      email: "minjun@example.com",
      phone: "+821012345678",
      birthDate: "1991-04-12",
      gender: "male",
      region: "서울 강남구",
      tier: "basic",
      status: "active",
      consents: [],
      pin: { set: false, locked: false },
      createdAt: new Date(t.clock.now).toISOString(),
      updatedAt: new Date(t.clock.now).toISOString(),
    });
    const read = await expectStatus(await t.call("GET", `/v1/members/${created.id}`), 200);
    expect(await read.json()).toEqual(created);
  });

  it("defaults the optional fields to null", async () => {
    const t = await createTestApp();
    const m = await enrol(t, { name: "Minjun Kim", email: "kim@example.com" });
    expect(m).toMatchObject({ preferredName: null, phone: null, birthDate: null, gender: null, region: null, consents: [] });
  });

  it("lowercases the email", async () => {
    const t = await createTestApp();
    const m = await enrol(t, { name: "김민준", email: "MinJun.Kim@Example.COM" });
    expect(m.email).toBe("minjun.kim@example.com");
  });

  it.each([
    ["010-1234-5678", "+821012345678"],
    ["01012345678", "+821012345678"],
    ["010 1234 5678", "+821012345678"],
    ["+82 10-1234-5678", "+821012345678"],
    ["+821012345678", "+821012345678"],
  ])("normalises the phone %s to E.164", async (input, e164) => {
    const t = await createTestApp();
    const m = await enrol(t, { name: "김민준", phone: input });
    expect(m.phone).toBe(e164);
    expect(m.email).toBeNull();
  });

  it("rejects a phone that is not a phone number", async () => {
    const t = await createTestApp();
    const p = await problem(await t.call("POST", "/v1/members", { body: { name: "김민준", phone: "1234" } }), 400);
    expect(p.code).toBe("validation_failed");
    expect(p.errors).toContainEqual({ field: "phone", message: expect.any(String) });
  });

  it("requires an email or a phone", async () => {
    const t = await createTestApp();
    const p = await problem(await t.call("POST", "/v1/members", { body: { name: "김민준" } }), 400);
    expect(p.code).toBe("validation_failed");
    expect(p.errors?.length).toBeGreaterThan(0);
    const nulls = await problem(await t.call("POST", "/v1/members", { body: { name: "김민준", email: null, phone: null } }), 400);
    expect(nulls.code).toBe("validation_failed");
    const empty = await search(t, {});
    expect(empty.items).toEqual([]);
  });

  it("refuses a second member with the same email, whatever its case, naming the existing member", async () => {
    const t = await createTestApp();
    const first = await enrol(t, { name: "김민준", email: "minjun@example.com" });
    const p = await problem(await t.call("POST", "/v1/members", { body: { name: "다른 사람", email: "MINJUN@example.com" } }), 409);
    expect(p.code).toBe("member_exists");
    expect(p.memberId).toBe(first.id);
    expect(p.requestId).toEqual(expect.any(String));
    expect((await search(t, {})).items).toHaveLength(1);
  });

  it.each([
    ["010-1234-5678", "+821012345678"],
    ["+821012345678", "01012345678"],
    ["+82 10 1234 5678", "010-1234-5678"],
  ])("refuses a duplicate phone written differently (%s then %s)", async (firstPhone, secondPhone) => {
    const t = await createTestApp();
    const first = await enrol(t, { name: "김민준", phone: firstPhone });
    const p = await problem(await t.call("POST", "/v1/members", { body: { name: "이서연", email: "seoyeon@example.com", phone: secondPhone } }), 409);
    expect(p.code).toBe("member_exists");
    expect(p.memberId).toBe(first.id);
  });

  it("records marketing consent per channel with purpose, source and time", async () => {
    const t = await createTestApp();
    t.clock.advance(3 * 86_400_000 + 1234);
    const at = new Date(t.clock.now).toISOString();
    const m = await enrol(t, {
      name: "김민준",
      email: "minjun@example.com",
      marketingConsent: { channels: ["email", "sms"], source: "signup-form" },
    });
    const consents = [...m.consents].sort((a, b) => a.channel.localeCompare(b.channel));
    expect(consents).toEqual([
      { purpose: "marketing", channel: "email", granted: true, source: "signup-form", recordedAt: at },
      { purpose: "marketing", channel: "sms", granted: true, source: "signup-form", recordedAt: at },
    ]);
    t.clock.advance(60_000);
    const read = (await (await t.call("GET", `/v1/members/${m.id}`)).json()) as Member;
    expect([...read.consents].sort((a, b) => a.channel.localeCompare(b.channel))).toEqual(consents);
  });

  it("records no consent when none was given", async () => {
    const t = await createTestApp();
    const m = await enrol(t, { name: "김민준", email: "minjun@example.com" });
    expect(m.consents).toEqual([]);
    const rows = t.database.sqlite.prepare("select count(*) as n from consents").get() as { n: number };
    expect(rows.n).toBe(0);
  });
});

describe("reading a member", () => {
  it("answers 404 not_found for an unknown id", async () => {
    const t = await createTestApp();
    const p = await problem(await t.call("GET", "/v1/members/mem_01JD0000000000000000000000"), 404);
    expect(p.code).toBe("not_found");
  });
});

describe("updating a member", () => {
  it("changes the given fields only and moves updatedAt", async () => {
    const t = await createTestApp();
    const m = await enrol(t, { name: "김민준", email: "minjun@example.com", phone: "010-1234-5678", region: "서울 강남구" });
    t.clock.advance(5_000);
    const res = await expectStatus(
      await t.call("PATCH", `/v1/members/${m.id}`, { body: { name: "김민준호", region: "부산 해운대구", email: "New@Example.com", phone: "010-9999-8888" } }),
      200,
    );
    const updated = (await res.json()) as Member;
    expect(updated).toEqual({
      ...m,
      name: "김민준호",
      region: "부산 해운대구",
      email: "new@example.com",
      phone: "+821099998888",
      updatedAt: new Date(t.clock.now).toISOString(),
    });
    expect(await (await t.call("GET", `/v1/members/${m.id}`)).json()).toEqual(updated);
  });

  it("keeps the contacts that the patch does not mention", async () => {
    const t = await createTestApp();
    const m = await enrol(t, { name: "김민준", email: "minjun@example.com", phone: "010-1234-5678" });
    const updated = (await (await expectStatus(await t.call("PATCH", `/v1/members/${m.id}`, { body: { gender: "male" } }), 200)).json()) as Member;
    expect(updated.email).toBe("minjun@example.com");
    expect(updated.phone).toBe("+821012345678");
    expect(updated.gender).toBe("male");
  });

  it("refuses an empty patch", async () => {
    const t = await createTestApp();
    const m = await enrol(t, { name: "김민준", email: "minjun@example.com" });
    const p = await problem(await t.call("PATCH", `/v1/members/${m.id}`, { body: {} }), 400);
    expect(p.code).toBe("validation_failed");
  });

  it("refuses to take another member's email or phone (409 member_exists)", async () => {
    const t = await createTestApp();
    const a = await enrol(t, { name: "김민준", email: "a@example.com", phone: "010-1111-2222" });
    const b = await enrol(t, { name: "이서연", email: "b@example.com", phone: "010-3333-4444" });

    const byEmail = await problem(await t.call("PATCH", `/v1/members/${b.id}`, { body: { email: "A@example.com" } }), 409);
    expect(byEmail.code).toBe("member_exists");
    expect(byEmail.memberId).toBe(a.id);

    const byPhone = await problem(await t.call("PATCH", `/v1/members/${b.id}`, { body: { phone: "+82 10 1111 2222" } }), 409);
    expect(byPhone.code).toBe("member_exists");
    expect(byPhone.memberId).toBe(a.id);

    // b is unchanged
    const read = (await (await t.call("GET", `/v1/members/${b.id}`)).json()) as Member;
    expect(read.email).toBe("b@example.com");
    expect(read.phone).toBe("+821033334444");
  });

  it("refuses another member's phone even when the patch also repeats the member's own email", async () => {
    const t = await createTestApp();
    const a = await enrol(t, { name: "김민준", email: "a@example.com", phone: "010-1111-2222" });
    const b = await enrol(t, { name: "이서연", email: "b@example.com", phone: "010-3333-4444" });
    for (const [self, other] of [
      [b, a],
      [a, b],
    ] as const) {
      const p = await problem(await t.call("PATCH", `/v1/members/${self.id}`, { body: { email: self.email, phone: other.phone } }), 409);
      expect(p.code).toBe("member_exists");
      expect(p.memberId).toBe(other.id);
    }
  });

  it("lets a member keep its own contacts in a patch", async () => {
    const t = await createTestApp();
    const m = await enrol(t, { name: "김민준", email: "minjun@example.com", phone: "010-1234-5678" });
    const res = await t.call("PATCH", `/v1/members/${m.id}`, { body: { email: "MINJUN@example.com", phone: "+821012345678", name: "김민준" } });
    await expectStatus(res, 200);
  });

  it("can drop one contact but never both", async () => {
    const t = await createTestApp();
    const m = await enrol(t, { name: "김민준", email: "minjun@example.com", phone: "010-1234-5678" });

    const both = await problem(await t.call("PATCH", `/v1/members/${m.id}`, { body: { email: null, phone: null } }), 400);
    expect(both.code).toBe("validation_failed");

    const noEmail = (await (await expectStatus(await t.call("PATCH", `/v1/members/${m.id}`, { body: { email: null } }), 200)).json()) as Member;
    expect(noEmail.email).toBeNull();
    expect(noEmail.phone).toBe("+821012345678");

    const last = await problem(await t.call("PATCH", `/v1/members/${m.id}`, { body: { phone: null } }), 400);
    expect(last.code).toBe("validation_failed");
    expect(last.errors?.[0]?.field).toBe("phone");

    const read = (await (await t.call("GET", `/v1/members/${m.id}`)).json()) as Member;
    expect(read.phone).toBe("+821012345678");
  });

  it("answers 404 for an unknown member", async () => {
    const t = await createTestApp();
    const p = await problem(await t.call("PATCH", "/v1/members/mem_01JD0000000000000000000000", { body: { name: "x" } }), 404);
    expect(p.code).toBe("not_found");
  });
});

describe("searching members", () => {
  async function population(t: TestApp) {
    const minjun = await enrol(t, { name: "김민준", email: "minjun.kim@example.com", phone: "010-1234-5678" });
    const seoyeon = await enrol(t, { name: "이서연", email: "seoyeon@sample.org", phone: "010-2222-3333" });
    const jane = await enrol(t, { name: "Jane Park", email: "jane@example.net" });
    const card = await givenCard(t, seoyeon.id);
    return { minjun, seoyeon, jane, card };
  }

  it("finds by part of the name, in any case", async () => {
    const t = await createTestApp();
    const { minjun, jane } = await population(t);
    expect(ids(await search(t, { q: "민준" }))).toEqual([minjun.id]);
    expect(ids(await search(t, { q: "jane" }))).toEqual([jane.id]);
    expect(ids(await search(t, { q: "PARK" }))).toEqual([jane.id]);
  });

  it("finds by email, whole or in part, in any case", async () => {
    const t = await createTestApp();
    const { minjun, seoyeon, jane } = await population(t);
    expect(ids(await search(t, { q: "minjun.kim@example.com" }))).toEqual([minjun.id]);
    expect(ids(await search(t, { q: "MinJun.Kim@Example.com" }))).toEqual([minjun.id]);
    expect(ids(await search(t, { q: "sample.org" }))).toEqual([seoyeon.id]);
    expect(ids(await search(t, { q: "example" }))).toEqual([minjun.id, jane.id].sort());
  });

  it("finds by phone in local and E.164 forms", async () => {
    const t = await createTestApp();
    const { minjun } = await population(t);
    for (const q of ["010-1234-5678", "01012345678", "+821012345678", "+82 10-1234-5678", "+82 10 1234 5678"]) {
      expect(ids(await search(t, { q })), q).toEqual([minjun.id]);
    }
  });

  it("finds by the last four digits of the phone", async () => {
    const t = await createTestApp();
    const { minjun, seoyeon } = await population(t);
    expect(ids(await search(t, { q: "5678" }))).toEqual([minjun.id]);
    expect(ids(await search(t, { q: "3333" }))).toEqual([seoyeon.id]);
  });

  it("finds by a card number prefix", async () => {
    const t = await createTestApp();
    const { seoyeon, card } = await population(t);
    expect(ids(await search(t, { q: card.number }))).toEqual([seoyeon.id]);
    expect(ids(await search(t, { q: card.number.slice(0, 12) }))).toEqual([seoyeon.id]);
  });

  it("treats LIKE wildcards literally", async () => {
    const t = await createTestApp();
    await population(t);
    expect((await search(t, { q: "%" })).items).toEqual([]);
    expect((await search(t, { q: "_" })).items).toEqual([]);
  });

  it("answers an empty page for no match", async () => {
    const t = await createTestApp();
    await population(t);
    expect(await search(t, { q: "nobody-by-that-name" })).toEqual({ items: [], nextCursor: null });
  });

  it("returns the consents with each member", async () => {
    const t = await createTestApp();
    await enrol(t, { name: "김민준", email: "minjun@example.com", marketingConsent: { channels: ["push"], source: "app" } });
    const page = await search(t, { q: "민준" });
    expect(page.items[0]?.consents).toEqual([{ purpose: "marketing", channel: "push", granted: true, source: "app", recordedAt: new Date(t.clock.now).toISOString() }]);
  });
});

describe("cursor pagination", () => {
  async function enrolMany(t: TestApp, n: number) {
    const created: string[] = [];
    for (let i = 0; i < n; i++) {
      // Some share a millisecond, some do not: the order must still be total.
      if (i % 3 === 0) t.clock.advance(1);
      const m = await enrol(t, { name: `회원 ${i}`, email: `member${i}@example.com`, phone: `010-5${String(i).padStart(3, "0")}-${String(1000 + i)}` });
      created.push(m.id);
    }
    return created;
  }

  async function walk(t: TestApp, query: Record<string, string>) {
    const pages: Page[] = [];
    let cursor: string | null = null;
    do {
      const page = await search(t, { ...query, ...(cursor ? { cursor } : {}) });
      pages.push(page);
      cursor = page.nextCursor;
      expect(pages.length).toBeLessThan(20);
    } while (cursor);
    return pages;
  }

  it("pages through every member once, newest first, and ends with a null cursor", async () => {
    const t = await createTestApp();
    const created = await enrolMany(t, 25);
    const pages = await walk(t, { limit: "10" });
    expect(pages.map((p) => p.items.length)).toEqual([10, 10, 5]);
    expect(pages.at(-1)?.nextCursor).toBeNull();
    const seen = pages.flatMap((p) => p.items.map((m) => m.id));
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual([...created].sort());
    expect(seen).toEqual([...created].sort().reverse());
  });

  it("has no extra empty page when the total is a multiple of the limit", async () => {
    const t = await createTestApp();
    await enrolMany(t, 20);
    const pages = await walk(t, { limit: "10" });
    expect(pages.map((p) => p.items.length)).toEqual([10, 10]);
  });

  it("does not skip or repeat when members join between pages", async () => {
    const t = await createTestApp();
    const created = await enrolMany(t, 15);
    const first = await search(t, { limit: "10" });
    t.clock.advance(1000);
    await enrol(t, { name: "신입", email: "late@example.com" });
    const second = await search(t, { limit: "10", cursor: first.nextCursor! });
    const seen = [...first.items, ...second.items].map((m) => m.id);
    expect(second.nextCursor).toBeNull();
    expect([...seen].sort()).toEqual([...created].sort());
  });

  it("pages a filtered search too", async () => {
    const t = await createTestApp();
    await enrolMany(t, 25);
    await enrol(t, { name: "다른 사람", email: "other@sample.org" });
    const pages = await walk(t, { q: "@example.com", limit: "7" });
    const seen = pages.flatMap((p) => p.items.map((m) => m.id));
    expect(seen).toHaveLength(25);
    expect(new Set(seen).size).toBe(25);
  });

  it("defaults to 20 a page", async () => {
    const t = await createTestApp();
    await enrolMany(t, 25);
    const page = await search(t, {});
    expect(page.items).toHaveLength(20);
    expect(page.nextCursor).not.toBeNull();
  });

  it.each(["0", "101", "1000", "-1", "ten", "2.5"])("rejects limit=%s", async (limit) => {
    const t = await createTestApp();
    const p = await problem(await t.call("GET", `/v1/members?limit=${limit}`), 400);
    expect(p.code).toBe("validation_failed");
    expect(p.errors?.map((e) => e.field)).toContain("limit");
  });

  it("accepts limit=100", async () => {
    const t = await createTestApp();
    await expectStatus(await t.call("GET", "/v1/members?limit=100"), 200);
  });

  it("rejects a cursor it did not hand out", async () => {
    const t = await createTestApp();
    const p = await problem(await t.call("GET", "/v1/members?cursor=not-a-cursor"), 400);
    expect(p.code).toBe("validation_failed");
    expect(p.errors?.map((e) => e.field)).toContain("cursor");
  });
});

describe("birth dates", () => {
  it("may not be after today by the app's clock", async () => {
    const t = await createTestApp();
    // The test clock stands at 2026-03-02: the day after is in the future, whatever the machine's date.
    const res = await t.call("POST", "/v1/members", { body: { name: "미래", email: "future@example.com", birthDate: "2026-03-03" } });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "validation_failed", errors: [{ field: "birthDate", message: "Must not be in the future" }] });
    const today = await t.call("POST", "/v1/members", { body: { name: "오늘", email: "today@example.com", birthDate: "2026-03-02" } });
    expect(today.status).toBe(201);
    const id = ((await today.json()) as { id: string }).id;
    const patch = await t.call("PATCH", `/v1/members/${id}`, { body: { birthDate: "2027-01-01" } });
    expect(await patch.json()).toMatchObject({ errors: [{ field: "birthDate" }] });
  });
});

describe("searching by part of a phone number", () => {
  it("finds the member by the middle and last four digits written with a dash", async () => {
    const t = await createTestApp();
    const res = await t.call("POST", "/v1/members", { body: { name: "전화", phone: "010-1234-5678" } });
    const { id } = (await res.json()) as { id: string };
    const found = (await (await t.call("GET", `/v1/members?q=${encodeURIComponent("1234-5678")}`)).json()) as { items: { id: string }[] };
    expect(found.items.map((m) => m.id)).toEqual([id]);
  });
});
