/**
 * The member's PIN for the till: set, changed and removed in self-service, stored hashed; the
 * member's record says only whether it is set and whether it is locked.
 */
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { memberPins } from "../../db/schema.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { expectStatus, givenMember, memberToken } from "../helpers/factories.ts";

const PIN = "583071";

let t: TestApp;

const setPin = (memberJwt: string, pin: string) => t.call("PUT", "/v1/me/pin", { token: memberJwt, body: { pin } });

async function pinOf(memberId: string, token?: string) {
  return ((await (await expectStatus(await t.call("GET", `/v1/members/${memberId}`, { token }), 200)).json()) as { pin: { set: boolean; locked: boolean } }).pin;
}

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
});
