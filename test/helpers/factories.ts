/** Factories: each test makes the members, cards, partners and credentials it needs. */
import type { TestApp } from "./app.ts";

let counter = 0;
const unique = () => `${Date.now().toString(36)}${(counter++).toString(36)}`;

export async function expectStatus(res: Response, status: number) {
  if (res.status !== status) {
    throw new Error(`expected ${status}, got ${res.status}: ${await res.text()}`);
  }
  return res;
}

/** A call that must answer `status`, read as JSON; the admin's by default. */
export async function adminJson<T>(t: TestApp, method: string, path: string, status: number, body?: unknown, token?: string | null): Promise<T> {
  const res = await expectStatus(await t.call(method, path, { ...(token !== undefined && { token }), ...(body !== undefined && { body }) }), status);
  return (await res.json()) as T;
}

export async function givenMember(t: TestApp, overrides: Record<string, unknown> = {}) {
  const n = counter++;
  const res = await t.call("POST", "/v1/members", {
    body: { name: "김민준", email: `m${unique()}@example.com`, phone: `010${String(10000000 + n * 7 + (Date.now() % 1000) * 9973).slice(-8)}`, ...overrides },
  });
  await expectStatus(res, 201);
  return (await res.json()) as { id: string; email: string | null; phone: string | null; name: string };
}

export async function givenCard(t: TestApp, memberId: string) {
  const res = await expectStatus(await t.call("POST", `/v1/members/${memberId}/cards`), 201);
  return (await res.json()) as { number: string; status: string; memberId: string };
}

/** Signs a member in the way the app does: a one-time code through the outbox. */
export async function memberToken(t: TestApp, member: { email: string | null }) {
  await expectStatus(await t.call("POST", "/v1/auth/member/start", { token: null, body: { email: member.email } }), 202);
  const outbox = (await (await t.call("GET", `/v1/outbox?recipient=${encodeURIComponent(member.email!)}&limit=1`)).json()) as { items: { body: string }[] };
  const code = /\b(\d{6})\b/.exec(outbox.items[0]!.body)![1];
  const res = await expectStatus(await t.call("POST", "/v1/auth/member/verify", { token: null, body: { email: member.email, code } }), 200);
  return ((await res.json()) as { token: string }).token;
}

export async function givenPartner(t: TestApp, name = "별빛시네마 강남") {
  const res = await expectStatus(await t.call("POST", "/v1/partners", { body: { name, category: "cinema" } }), 201);
  const partner = (await res.json()) as { id: string };
  const keyRes = await expectStatus(await t.call("POST", `/v1/partners/${partner.id}/keys`, { body: { name: "POS 1", scopes: ["cards:verify", "purchases:write"] } }), 201);
  const { key, id: keyId } = (await keyRes.json()) as { key: string; id: string };
  return { id: partner.id, key, keyId };
}

export async function givenStaff(t: TestApp, role: "admin" | "marketer") {
  const email = `${role}${unique()}@dangol.test`;
  const password = "correct horse battery staple";
  await expectStatus(await t.call("POST", "/v1/staff", { body: { email, name: `Test ${role}`, role, password } }), 201);
  const res = await expectStatus(await t.call("POST", "/v1/auth/login", { token: null, body: { email, password } }), 200);
  return { email, password, token: ((await res.json()) as { token: string }).token };
}

/** Fails the test with every ledger invariant that does not hold. */
export async function expectLedgerBalanced(t: TestApp) {
  const { checkLedger } = await import("../../src/services/points/ledger-check.ts");
  const violations = await checkLedger(t.deps);
  if (violations.length) throw new Error(`ledger invariants violated:\n${violations.map((v) => `${v.invariant}: ${v.subject} (${v.detail})`).join("\n")}`);
}

/**
 * The member's QR card as a till scans it: a fresh card token (minted as the wallet mints it),
 * the proof that the member is there which spending points needs.
 */
export async function scannedCard(t: TestApp, card: { memberId: string }) {
  const { mintCardToken } = await import("../../src/services/cards/card-tokens.ts");
  return { token: (await mintCardToken(t.deps, card.memberId)).token };
}

let receipts = 0;

/** Records a purchase through the API as a partner's till would: the card typed in, or scanned. */
export async function purchase(
  t: TestApp,
  partner: { key: string },
  card: { number: string } | { token: string },
  body: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) {
  return t.call("POST", "/v1/purchases", {
    token: partner.key,
    headers,
    body: { card: "token" in card ? { token: card.token } : { number: card.number }, receiptId: `r-${++receipts}`, amountMinor: 10_000, currency: "KRW", ...body },
  });
}
