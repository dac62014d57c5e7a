/**
 * Drives the real Workers entry (src/worker.ts on D1) through `exports.default.fetch`, the way the
 * Node suite drives app.request. Web-standard only: this file runs inside workerd.
 */
import { env, exports } from "cloudflare:workers";

export const ADMIN_TOKEN = env.ADMIN_TOKEN;
const ORIGIN = "http://dangol.test";

let counter = 0;
/** Unique per call and per run: D1 state persists across the tests of a file. */
export const unique = () => `${Date.now().toString(36)}${(counter++).toString(36)}${Math.random().toString(36).slice(2, 6)}`;

export interface CallOptions {
  /** Bearer token; the admin token unless given, none when null. */
  token?: string | null;
  body?: unknown;
  headers?: Record<string, string>;
}

export function call(method: string, path: string, opts: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { ...opts.headers };
  const token = opts.token === undefined ? ADMIN_TOKEN : opts.token;
  if (token) headers.authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers["content-type"] ??= "application/json";
    body = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
  }
  return exports.default.fetch(new Request(`${ORIGIN}${path}`, { method, headers, body }));
}

export async function expectStatus(res: Response, status: number): Promise<Response> {
  if (res.status !== status) {
    throw new Error(`expected ${status}, got ${res.status}: ${await res.text()}`);
  }
  return res;
}

export async function jsonOf<T>(res: Response, status: number): Promise<T> {
  return (await (await expectStatus(res, status)).json()) as T;
}

export interface Problem {
  status: number;
  code: string;
  detail: string;
  errors?: Array<{ field: string; message: string }>;
}

export const uniqueEmail = (tag = "m") => `${tag}${unique()}@example.com`;

export async function givenMember(overrides: Record<string, unknown> = {}) {
  return jsonOf<{ id: string; email: string | null; name: string; tier: string }>(
    await call("POST", "/v1/members", { body: { name: "김민준", email: uniqueEmail(), ...overrides } }),
    201,
  );
}

export async function givenCard(memberId: string) {
  return jsonOf<{ number: string; status: string; memberId: string }>(await call("POST", `/v1/members/${memberId}/cards`), 201);
}

/** The newest message to an address, or null. */
async function newestMessageTo(email: string): Promise<{ id: string; body: string } | null> {
  const outbox = await jsonOf<{ items: { id: string; body: string }[] }>(await call("GET", `/v1/outbox?recipient=${encodeURIComponent(email)}&limit=1`), 200);
  return outbox.items[0] ?? null;
}

/**
 * The latest sign-in code sent to an address: it is written and sent just after start answers, so
 * wait for it — and, when the address was sent a code before (`after`, that message's id), for a
 * newer one, not the code the new start has just made stale.
 */
export async function codeSentTo(email: string, after: string | null = null): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const message = await newestMessageTo(email);
    const code = message && message.id !== after && /\b(\d{6})\b/.exec(message.body)?.[1];
    if (code) return code;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no sign-in code sent to ${email}`);
}

/** The one-time code flow: start, read the code from the outbox as admin, verify. */
export async function memberToken(email: string): Promise<string> {
  const before = await newestMessageTo(email);
  await expectStatus(await call("POST", "/v1/auth/member/start", { token: null, body: { email } }), 202);
  const code = await codeSentTo(email, before?.id ?? null);
  const session = await jsonOf<{ token: string; memberId: string }>(
    await call("POST", "/v1/auth/member/verify", { token: null, body: { email, code } }),
    200,
  );
  return session.token;
}

export async function givenPartner(name = "별빛시네마 강남") {
  const partner = await jsonOf<{ id: string }>(await call("POST", "/v1/partners", { body: { name, category: "cinema" } }), 201);
  const key = await jsonOf<{ id: string; key: string }>(
    await call("POST", `/v1/partners/${partner.id}/keys`, { body: { name: "POS 1", scopes: ["cards:verify", "purchases:write"] } }),
    201,
  );
  return { id: partner.id, key: key.key, keyId: key.id };
}

const signedIn = new Map<string, Promise<string>>();

/**
 * The member's QR card as a till scans it: a fresh card token from the wallet (the member signs
 * in once per address), the proof of presence that spending points needs.
 */
export async function scannedCard(member: { email: string | null }): Promise<{ token: string }> {
  const email = member.email!;
  if (!signedIn.has(email)) signedIn.set(email, memberToken(email));
  const minted = await jsonOf<{ token: string }>(await call("GET", "/v1/me/card/token", { token: await signedIn.get(email)! }), 200);
  return { token: minted.token };
}
