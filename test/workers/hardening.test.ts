/**
 * Issue 11 on D1 and workerd: bounded refusals, text that is not text, and sign-in codes that
 * cannot be guessed in parallel past their attempt limit.
 */
import { env, exports } from "cloudflare:workers";
import { decodeProtectedHeader } from "jose";
import { describe, expect, it } from "vitest";
import { call, codeSentTo, givenCard, givenMember, givenPartner, jsonOf, memberToken, uniqueEmail, type Problem } from "./client.ts";

/** A body sent as given, bytes and all (the client helper sends JSON it serialised itself). */
const post = (path: string, body: string | Uint8Array<ArrayBuffer>) =>
  exports.default.fetch(new Request(`http://dangol.test${path}`, { method: "POST", headers: { "content-type": "application/json" }, body }));

describe("bounded input on workerd", () => {
  it("a body of 6,000 unknown keys gets a small 400, before validation", async () => {
    const body = `{${Array.from({ length: 6_000 }, (_, i) => `"${i}":1`).join(",")},"email":"a@b.example"}`;
    const res = await post("/v1/auth/member/start", body);
    const text = await res.text();
    expect(res.status).toBe(400);
    expect((JSON.parse(text) as Problem).code).toBe("malformed_request");
    expect(text.length).toBeLessThan(1_024);
  });

  it("999 unknown keys are listed 20 at most, with a count of the rest", async () => {
    const body = `{${Array.from({ length: 999 }, (_, i) => `"${i}":1`).join(",")},"email":"a@b.example"}`;
    const problem = await jsonOf<Problem & { errorsOmitted: number }>(await post("/v1/auth/member/start", body), 400);
    expect(problem.errors).toHaveLength(20);
    expect(problem.errorsOmitted).toBe(979);
  });

  it("invalid UTF-8 and escaped lone surrogates are refused", async () => {
    const invalid = Uint8Array.from([...new TextEncoder().encode('{"email":"'), 0xc3, 0x28, ...new TextEncoder().encode('@x.example"}')]);
    expect((await jsonOf<Problem>(await post("/v1/auth/member/start", invalid), 400)).code).toBe("malformed_request");
    const surrogate = await jsonOf<Problem>(await call("POST", "/v1/members", { body: String.raw`{"name":"김\ud800","email":"${uniqueEmail("s")}"}` }), 400);
    expect(surrogate.errors?.map((e) => e.field)).toEqual(["name"]);
  });
});

describe("sign-in codes on D1", () => {
  it("15 wrong codes at once use up the attempts: the right one afterwards is refused", async () => {
    const email = uniqueEmail("otp-race");
    await givenMember({ email, name: "김민준" });
    await call("POST", "/v1/auth/member/start", { token: null, body: { email } });
    const code = await codeSentTo(email);
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, "0");
    const guesses = await Promise.all(Array.from({ length: 15 }, () => call("POST", "/v1/auth/member/verify", { token: null, body: { email, code: wrong } })));
    expect(guesses.map((r) => r.status)).toEqual(Array(15).fill(401));
    const right = await jsonOf<Problem>(await call("POST", "/v1/auth/member/verify", { token: null, body: { email, code } }), 401);
    expect(right.code).toBe("otp_invalid");
  });
});

describe("the key ring on D1", () => {
  it("a key removed by another isolate stops verifying here at once, and a rotation there signs here", async () => {
    const email = uniqueEmail("keys");
    await givenCard((await givenMember({ email, name: "김회전" })).id);
    const token = await memberToken(email);
    await jsonOf(await call("GET", "/v1/me", { token }), 200);
    const oldKid = decodeProtectedHeader(token).kid!;
    // Another isolate rotates: the same statements, written straight to D1, past this isolate's keys.
    const { kid: newKid } = await jsonOf<{ kid: string }>(await call("POST", "/v1/admin/signing-keys/rotate"), 201);
    await env.DB.prepare("UPDATE signing_keys SET status = 'retired' WHERE kid = ?").bind(newKid).run();
    await env.DB.prepare("UPDATE signing_keys SET status = 'active', retired_at = NULL WHERE kid = ?").bind(oldKid).run();
    const minted = await jsonOf<{ token: string }>(await call("GET", "/v1/me/card/token", { token }), 200);
    expect(decodeProtectedHeader(minted.token).kid).toBe(oldKid);
    await env.DB.prepare("UPDATE signing_keys SET status = 'retired' WHERE kid = ?").bind(oldKid).run();
    await env.DB.prepare("UPDATE signing_keys SET status = 'active', retired_at = NULL WHERE kid = ?").bind(newKid).run();
    await env.DB.prepare("DELETE FROM signing_keys WHERE kid = ?").bind(oldKid).run();
    expect((await jsonOf<Problem>(await call("GET", "/v1/me", { token }), 401)).code).toBe("unauthorized");
  });
});

describe("the operator's offers as a partner sees them on D1", () => {
  it("only those its tills can apply, narrowed to itself (json_each over the offer's rules)", async () => {
    // Every offer here names fresh partners only, so no other test's till can apply it.
    const [partner, other, third] = [await givenPartner("별빛시네마 D1"), await givenPartner("한빛서점 D1"), await givenPartner("카페 다온 D1")];
    const operatorOffer = async (partnerIds: string[]) =>
      (await jsonOf<{ id: string }>(await call("POST", "/v1/offers", { body: { name: "D1 operator offer", reward: { kind: "amount", amountMinor: 500 }, conditions: { partnerIds } } }), 201)).id;
    const shared = await operatorOffer([partner.id, other.id]);
    const elsewhere = await operatorOffer([other.id, third.id]);
    const listed = await jsonOf<{ items: { id: string; conditions: { partnerIds?: string[] } }[] }>(await call("GET", "/v1/offers?limit=100", { token: partner.key }), 200);
    const ids = listed.items.map((o) => o.id);
    expect(ids).toContain(shared);
    expect(ids).not.toContain(elsewhere);
    expect(listed.items.find((o) => o.id === shared)!.conditions.partnerIds).toEqual([partner.id]);
    expect(JSON.stringify(listed)).not.toContain(other.id);
    expect((await call("GET", `/v1/offers/${elsewhere}`, { token: partner.key })).status).toBe(404);
  });
});

describe("an empty body sent as JSON on workerd", () => {
  it("is no body: a card is issued to a call that says application/json and sends nothing", async () => {
    const member = await givenMember();
    const res = await exports.default.fetch(
      new Request(`http://dangol.test/v1/members/${member.id}/cards`, { method: "POST", headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" }, body: "" }),
    );
    expect(res.status).toBe(201);
  });
});
