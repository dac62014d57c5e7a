/**
 * Issue 11, finding 7: nobody learns who is enrolled. A member's patch with another member's
 * email used to answer 409 member_exists (naming the other member), and "send me a code" took
 * twice as long for an enrolled address as for an unknown one.
 */
import { describe, expect, it, vi } from "vitest";
import type { Problem } from "../../src/errors.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { givenMember, memberToken } from "../helpers/factories.ts";

describe("a member's own record", () => {
  it("a member cannot change their email or phone: the same refusal whether the new one is taken or free", async () => {
    const t = await createTestApp();
    const self = await givenMember(t, { email: "self@example.com" });
    const other = await givenMember(t, { email: "other@example.com" });
    const token = await memberToken(t, self);
    const answers: Array<Problem & { memberId?: string }> = [];
    for (const body of [{ email: other.email }, { email: "free@example.com" }, { phone: other.phone }, { phone: "010-5555-0000" }]) {
      const res = await t.call("PATCH", `/v1/members/${self.id}`, { token, body });
      expect(res.status).toBe(403);
      answers.push((await res.json()) as Problem & { memberId?: string });
    }
    const shape = (p: Problem) => ({ status: p.status, code: p.code, detail: p.detail });
    expect(new Set(answers.map((a) => JSON.stringify(shape(a)))).size).toBe(1);
    expect(answers.every((a) => a.memberId === undefined)).toBe(true);
    const read = (await (await t.call("GET", `/v1/members/${self.id}`)).json()) as { email: string };
    expect(read.email).toBe("self@example.com");
  });

  it("a member still changes the rest of their record, and may repeat their own contacts", async () => {
    const t = await createTestApp();
    const self = await givenMember(t, { email: "self@example.com" });
    const token = await memberToken(t, self);
    const res = await t.call("PATCH", `/v1/members/${self.id}`, { token, body: { name: "김새이름", region: "부산 해운대구", email: "SELF@example.com", phone: self.phone } });
    expect(res.status).toBe(200);
    expect((await res.json()) as object).toMatchObject({ name: "김새이름", region: "부산 해운대구", email: "self@example.com" });
  });

  it("staff still change a member's email, and are told when another member holds it", async () => {
    const t = await createTestApp();
    const self = await givenMember(t);
    const other = await givenMember(t);
    expect((await t.call("PATCH", `/v1/members/${self.id}`, { body: { email: "changed@example.com" } })).status).toBe(200);
    expect((await t.call("PATCH", `/v1/members/${self.id}`, { body: { email: other.email } })).status).toBe(409);
  });
});

describe("sending a sign-in code", () => {
  /** The answer, and how many SQL statements ran before it was given. */
  async function startCounted(t: TestApp, email: string) {
    const prepare = vi.spyOn(t.database.sqlite, "prepare");
    const res = await t.app.request("/v1/auth/member/start", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email }) });
    const statements = prepare.mock.calls.length;
    prepare.mockRestore();
    const body = await res.text();
    await t.deps.background.idle();
    return { status: res.status, body, statements };
  }

  it("answers an enrolled and an unknown address alike, before the database is asked about either", async () => {
    const t = await createTestApp();
    const member = await givenMember(t, { email: "enrolled@example.com" });
    const enrolled = await startCounted(t, "enrolled@example.com");
    const unknown = await startCounted(t, "nobody@example.com");
    expect(enrolled).toEqual({ status: 202, body: '{"status":"sent"}', statements: 0 });
    expect(unknown).toEqual(enrolled);
    // The code still went out, just after the answer.
    const outbox = (await (await t.call("GET", "/v1/outbox?recipient=enrolled@example.com")).json()) as { items: Array<{ memberId: string }> };
    expect(outbox.items.map((m) => m.memberId)).toEqual([member.id]);
  });

  it("an invalid phone number is still refused at once", async () => {
    const t = await createTestApp();
    const res = await t.call("POST", "/v1/auth/member/start", { token: null, body: { phone: "12" } });
    expect(res.status).toBe(400);
  });
});
