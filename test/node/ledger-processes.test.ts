/**
 * The ledger under real processes: many workers redeeming from one balance at once, refunding one
 * purchase at once, and a SIGKILL in the middle of a stream of purchases. Each runs the real entry
 * (src/node.ts) on a temporary database file, over real sockets on 127.0.0.1.
 */
import Database from "better-sqlite3";
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import http from "node:http";
import { send, type Reply } from "../support/http-request.ts";
import { afterAll, describe, expect, it } from "vitest";
import { refundRaces, runRefundRace, type Send } from "../support/refund-race.ts";
import { removeServerFiles, startServer, type ServerProcess } from "../support/server-process.ts";

afterAll(removeServerFiles);

const ADMIN = "ledger-processes-admin-token-0123456789";

/** Admin calls during setup: anything but the expected status fails with the body. */
async function admin(agent: http.Agent, base: string, method: string, path: string, body?: unknown, expected = 201) {
  const reply = await send(agent, base, method, path, ADMIN, body);
  if (reply.status !== expected) throw new Error(`${method} ${path}: expected ${expected}, got ${reply.status}: ${JSON.stringify(reply.body)}`);
  return reply.body as Record<string, unknown>;
}

/** A member with a card, and a partner with a till key (cards:verify, purchases:write). */
async function givenProgram(agent: http.Agent, base: string) {
  const member = await admin(agent, base, "POST", "/v1/members", { name: "김동시", email: "concurrent@example.com" });
  const memberId = member.id as string;
  const card = await admin(agent, base, "POST", `/v1/members/${memberId}/cards`);
  const partner = await admin(agent, base, "POST", "/v1/partners", { name: "별빛시네마 강남", category: "cinema" });
  const key = await admin(agent, base, "POST", `/v1/partners/${partner.id as string}/keys`, { name: "POS 1" });
  return { memberId, cardNumber: card.number as string, partnerId: partner.id as string, partnerKey: key.key as string };
}

/**
 * QR card tokens as the member's wallet mints them, after signing in with a one-time code (read
 * from the outbox): a sale that spends points shows one, as proof that the member is there.
 */
async function walletTokens(agent: http.Agent, base: string, email: string, count: number): Promise<string[]> {
  await admin(agent, base, "POST", "/v1/auth/member/start", { email }, 202);
  // The code is written and sent just after start answers.
  let outbox = await admin(agent, base, "GET", `/v1/outbox?recipient=${encodeURIComponent(email)}&limit=1`, undefined, 200);
  for (let i = 0; i < 100 && (outbox.items as unknown[]).length === 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
    outbox = await admin(agent, base, "GET", `/v1/outbox?recipient=${encodeURIComponent(email)}&limit=1`, undefined, 200);
  }
  const code = /\b(\d{6})\b/.exec((outbox.items as Array<{ body: string }>)[0]!.body)![1];
  const session = await admin(agent, base, "POST", "/v1/auth/member/verify", { email, code }, 200);
  const tokens: string[] = [];
  while (tokens.length < count) {
    const batch = await Promise.all(Array.from({ length: Math.min(100, count - tokens.length) }, () => send(agent, base, "GET", "/v1/me/card/token", session.token as string)));
    for (const reply of batch) {
      if (reply.status !== 200) throw new Error(`GET /v1/me/card/token: ${reply.status} ${JSON.stringify(reply.body)}`);
      tokens.push(reply.body.token as string);
    }
  }
  return tokens;
}

/** The pids of the workers that logged "listening" (LOG_LEVEL=info), waiting until there are `count`. */
async function listeningPids(server: ServerProcess, count: number, timeoutMs = 120_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = new Set<number>();
    for (const line of server.stdout().split("\n")) {
      if (!line.includes('"msg":"listening"')) continue;
      try {
        const pid = (JSON.parse(line) as { pid?: number }).pid;
        if (pid) pids.add(pid);
      } catch {
        // a partial line still being written
      }
    }
    if (pids.size >= count) return [...pids];
    if (Date.now() > deadline) throw new Error(`only ${pids.size} of ${count} workers listening:\n${server.stdout()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Which process holds each server-side connection: the inodes of ESTABLISHED sockets whose local
 * port is the server's (/proc/net/tcp), matched against each worker's open descriptors. Linux
 * only; undefined elsewhere. A connection is served by the worker that holds it.
 */
function connectionsByWorker(port: number, pids: number[]): Map<number, Set<string>> | undefined {
  if (!existsSync("/proc/net/tcp")) return undefined;
  const portHex = port.toString(16).toUpperCase().padStart(4, "0");
  const serverSide = new Set<string>();
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
    if (fields.length < 10) continue;
    if (fields[1]!.endsWith(`:${portHex}`) && fields[3] === "01") serverSide.add(fields[9]!);
  }
  const byWorker = new Map<number, Set<string>>();
  for (const pid of pids) {
    const held = new Set<string>();
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      // not ours to read, or gone
    }
    for (const fd of fds) {
      try {
        const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        if (inode && serverSide.has(inode)) held.add(inode);
      } catch {
        // closed while we looked
      }
    }
    byWorker.set(pid, held);
  }
  return byWorker;
}

/** The first lines the server logged at level error, for a failure's message. */
function serverErrors(server: ServerProcess): string {
  const lines = server.stdout().split("\n").filter((l) => l.includes('"level":"error"'));
  return `server errors:\n${lines.slice(0, 20).join("\n")}`;
}

function tally(replies: Reply[]) {
  const counts: Record<string, number> = {};
  for (const r of replies) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
}

describe("the ledger across processes", () => {
  it(
    "lets exactly the balance be redeemed when 1,000 redemptions race across 4 processes",
    async () => {
      const server = await startServer({ CLUSTER_WORKERS: "4", SEED_DEMO: "0", ADMIN_TOKEN: ADMIN, POINTS_JOB_INTERVAL_SECONDS: "0", LOG_LEVEL: "info" });
      // One socket per request: nothing queues in the client, every request is in flight at once.
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1_000 });
      try {
        // All four workers listening, so the primary hands connections to each of them.
        const workers = await listeningPids(server, 4);
        const { memberId, partnerKey } = await givenProgram(agent, server.base);
        const adjusted = await admin(agent, server.base, "POST", `/v1/members/${memberId}/adjustments`, { points: 100, reason: "concurrency test float" });
        expect(adjusted.balance).toEqual({ available: 100, pending: 0 });
        const cardTokens = await walletTokens(agent, server.base, "concurrent@example.com", 1_000);

        // Which worker holds which connection, sampled while the burst runs.
        const port = Number(new URL(server.base).port);
        const seen = new Map<number, Set<string>>(workers.map((pid) => [pid, new Set<string>()]));
        const sample = () => {
          for (const [pid, inodes] of connectionsByWorker(port, workers) ?? []) for (const inode of inodes) seen.get(pid)!.add(inode);
        };
        const sampler = setInterval(sample, 100);
        let replies: Reply[];
        try {
          replies = await Promise.all(
            Array.from({ length: 1_000 }, (_, i) =>
              send(agent, server.base, "POST", "/v1/purchases", partnerKey, {
                card: { token: cardTokens[i] },
                receiptId: `race-${i}`,
                amountMinor: 1,
                currency: "KRW",
                redeemPoints: 1,
              }),
            ),
          );
        } finally {
          clearInterval(sampler);
        }
        sample();

        // The client really ran them side by side: one connection each, not a handful reused.
        const sockets = new Set(replies.map((r) => r.localPort));
        expect(sockets.size).toBeGreaterThan(500);

        const unexpected = replies.filter((r) => !(r.status === 201 || (r.status === 422 && r.body?.code === "insufficient_points")));
        expect(
          unexpected.slice(0, 5).map((r) => ({ status: r.status, body: r.body })),
          `unexpected replies ${JSON.stringify(tally(unexpected))}; ${serverErrors(server)}`,
        ).toEqual([]);
        expect(tally(replies)).toEqual({ 201: 100, 422: 900 });
        const accepted = replies.filter((r) => r.status === 201);
        expect(accepted.every((r) => r.body.pointsRedeemed === 1 && r.body.pointsEarned === 0)).toBe(true);
        expect(new Set(accepted.map((r) => r.body.receiptId)).size).toBe(100);

        const balance = await admin(agent, server.base, "GET", `/v1/members/${memberId}/balance`, undefined, 200);
        expect(balance).toMatchObject({ available: 0, pending: 0, owed: 0 });
        expect(await admin(agent, server.base, "GET", "/v1/admin/ledger/check", undefined, 200)).toEqual({ ok: true, violations: [] });

        // More than one process served the burst (where /proc shows who holds which connection).
        if (existsSync("/proc/net/tcp")) {
          const serving = [...seen].filter(([, inodes]) => inodes.size > 0);
          expect(serving.length, `connections per worker: ${JSON.stringify([...seen].map(([pid, s]) => [pid, s.size]))}`).toBeGreaterThan(1);
        }
      } finally {
        agent.destroy();
        expect(await server.stop("SIGTERM")).toBe(0);
      }
    },
    300_000,
  );

  it(
    "answers refunds of one purchase racing across 4 processes with refunds and refusals for what is left only",
    async () => {
      const server = await startServer({ CLUSTER_WORKERS: "4", SEED_DEMO: "0", ADMIN_TOKEN: ADMIN, POINTS_JOB_INTERVAL_SECONDS: "0", LOG_LEVEL: "info" });
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1_000 });
      const viaHttp: Send = (method, path, token, body) => send(agent, server.base, method, path, token ?? ADMIN, body);
      try {
        await listeningPids(server, 4);
        // Each race on one purchase after another, four times over: as the processes warm up and
        // fall out of step the races grow tighter (the first is rarely the one that loses).
        for (let round = 1; round <= 4; round++) {
          for (const [i, race] of refundRaces.entries()) {
            await runRefundRace(viaHttp, race, `processes-${round}-${i}`, () => `round ${round}, ${race.name}; ${serverErrors(server)}`);
          }
        }
      } finally {
        agent.destroy();
        expect(await server.stop("SIGTERM")).toBe(0);
      }
    },
    300_000,
  );

  it(
    "keeps every acknowledged purchase, and nothing half-written, when the processes are killed mid-stream",
    async () => {
      const env = { CLUSTER_WORKERS: "2", SEED_DEMO: "0", ADMIN_TOKEN: ADMIN, POINTS_JOB_INTERVAL_SECONDS: "0" };
      const CLIENTS = 8;
      const KILL_AFTER = 200; // acknowledged purchases

      const server = await startServer(env, undefined, 100, { detached: true });
      const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
      /** receiptId → what the 201 said. */
      const acknowledged = new Map<string, { purchaseId: string; pointsEarned: number }>();
      /** Sent, but the connection died before an answer: committed or not, either is fine. */
      const unanswered = new Set<string>();
      const refused: Array<{ receiptId: string; status: number; body: unknown }> = [];
      let setup: Awaited<ReturnType<typeof givenProgram>>;
      let killing: Promise<void> | undefined;
      try {
        setup = await givenProgram(agent, server.base);
        const { cardNumber, partnerKey } = setup;
        const client = async (n: number) => {
          for (let i = 0; ; i++) {
            const receiptId = `crash-${n}-${i}`;
            let reply: Reply;
            try {
              reply = await send(agent, server.base, "POST", "/v1/purchases", partnerKey, {
                card: { number: cardNumber },
                receiptId,
                amountMinor: 1_000 + ((n * 7 + i) % 50) * 100,
                currency: "KRW",
              });
            } catch {
              if (!killing) throw new Error(`request ${receiptId} failed before the kill:\n${server.stdout()}`);
              unanswered.add(receiptId);
              return;
            }
            if (reply.status === 201) {
              acknowledged.set(receiptId, { purchaseId: reply.body.purchaseId, pointsEarned: reply.body.pointsEarned });
            } else {
              refused.push({ receiptId, status: reply.status, body: reply.body });
              if (!killing) killing = server.kill();
            }
            // The crash: every process of the server at once, with requests in flight.
            if (acknowledged.size >= KILL_AFTER && !killing) killing = server.kill();
          }
        };
        await Promise.all(Array.from({ length: CLIENTS }, (_, n) => client(n)));
        await killing;
      } finally {
        agent.destroy();
        // However the test went, no process of the first server is left behind.
        await server.kill();
      }
      expect(refused, "every answered purchase before the crash was recorded").toEqual([]);
      expect(acknowledged.size).toBeGreaterThanOrEqual(KILL_AFTER);
      const { memberId, partnerKey } = setup;

      // The same file, a new server: it recovers from the WAL as it opens.
      const again = await startServer(env, server.databasePath, 100, { detached: true });
      const agent2 = new http.Agent({ keepAlive: true, maxSockets: 8 });
      let available: number;
      try {
        for (const [receiptId, ack] of acknowledged) {
          const found = await send(agent2, again.base, "GET", `/v1/purchases/${ack.purchaseId}`, partnerKey);
          expect(found.status, `acknowledged ${receiptId} (${ack.purchaseId}) is gone`).toBe(200);
          expect(found.body).toMatchObject({ purchaseId: ack.purchaseId, receiptId, pointsEarned: ack.pointsEarned, status: "completed" });
        }
        expect(await admin(agent2, again.base, "GET", "/v1/admin/ledger/check", undefined, 200)).toEqual({ ok: true, violations: [] });
        const balance = await admin(agent2, again.base, "GET", `/v1/members/${memberId}/balance`, undefined, 200);
        available = balance.available as number;
      } finally {
        agent2.destroy();
        const code = await again.stop("SIGTERM");
        if (code !== 0) await again.kill();
        expect(code).toBe(0);
      }

      // The file itself, after a clean stop: intact, and every purchase in it accounted for.
      const db = new Database(server.databasePath, { readonly: true, fileMustExist: true });
      let rows: Array<{ receipt_id: string; earned_points: number }>;
      try {
        expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
        expect(db.pragma("foreign_key_check")).toEqual([]);
        rows = db.prepare("SELECT receipt_id, earned_points FROM purchases WHERE member_id = ?").all(memberId) as typeof rows;
      } finally {
        db.close();
      }
      const stored = new Map(rows.map((r) => [r.receipt_id, r.earned_points]));
      // Acknowledged ⊆ stored ⊆ acknowledged ∪ unanswered: nothing lost, nothing invented.
      expect([...acknowledged.keys()].filter((r) => !stored.has(r))).toEqual([]);
      expect([...stored.keys()].filter((r) => !acknowledged.has(r) && !unanswered.has(r))).toEqual([]);
      expect(unanswered.size).toBeLessThanOrEqual(CLIENTS);
      for (const [receiptId, ack] of acknowledged) expect(stored.get(receiptId)).toBe(ack.pointsEarned);
      const acknowledgedSum = [...acknowledged.values()].reduce((n, a) => n + a.pointsEarned, 0);
      const storedSum = [...stored.values()].reduce((n, p) => n + p, 0);
      expect(available).toBe(storedSum);
      expect(available).toBeGreaterThanOrEqual(acknowledgedSum);
      expect(acknowledgedSum).toBeGreaterThan(0);
    },
    300_000,
  );
});
