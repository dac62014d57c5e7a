/**
 * POST /v1/purchases with durable commits (synchronous=FULL) against a bare Hono hello-world,
 * both served by one Node process on this machine, measured with autocannon at 64 connections.
 * Prints requests per second, the ratio and the p99. Target: ratio ≥ 0.25, p99 ≤ 25 ms.
 */
import autocannon from "autocannon";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { freePort, startServer } from "../test/support/server-process.ts";

const CONNECTIONS = 64;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const MEMBERS = 500;
// Processes serving dangol (CLUSTER_WORKERS); the hello-world baseline is always one.
const WORKERS = Number(process.env.BENCH_WORKERS ?? 1);
const ADMIN = "bench-admin-token-0123456789abcdef";

/** CPU milliseconds each thread of a process has used, from /proc (Linux); empty elsewhere. */
function threadCpuMs(pid: number): Map<string, number> {
  if (!existsSync(`/proc/${pid}/task`)) return new Map();
  return new Map(
    readdirSync(`/proc/${pid}/task`).map((tid) => {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const [utime, stime] = stat.slice(stat.lastIndexOf(")") + 2).split(" ").slice(11, 13).map(Number);
      return [tid, (utime! + stime!) * 10]; // clock ticks of 10 ms
    }),
  );
}

/**
 * Where a purchase's CPU goes, in µs per purchase: the main thread, the writer thread (the busiest
 * other one) and the rest (V8's garbage collection and compiler threads). One process only.
 */
function cpuPerPurchase(pid: number, before: Map<string, number>, purchases: number) {
  const used = [...threadCpuMs(pid)].map(([tid, ms]) => ({ tid, us: ((ms - (before.get(tid) ?? 0)) * 1000) / purchases }));
  if (used.length === 0) return null;
  const main = used.find((t) => t.tid === String(pid))!.us;
  const others = used.filter((t) => t.tid !== String(pid)).sort((a, b) => b.us - a.us);
  const writer = others[0]?.us ?? 0;
  const rest = others.slice(1).reduce((n, t) => n + t.us, 0);
  return { main: Math.round(main), writer: Math.round(writer), otherThreads: Math.round(rest) };
}

function run(options: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => autocannon(options, (error, result) => (error ? reject(error) : resolve(result))));
}

async function helloWorld() {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", "bench/hello-server.ts"], { env: { ...process.env, PORT: String(port) } });
  await new Promise<void>((resolve) => child.stdout.on("data", () => resolve()));
  try {
    return await run({ url: `http://127.0.0.1:${port}/`, connections: CONNECTIONS, duration: SECONDS });
  } finally {
    child.kill("SIGTERM");
  }
}

async function purchases() {
  const server = await startServer({ SEED_DEMO: "0", ADMIN_TOKEN: ADMIN, LOG_LEVEL: "warn", POINTS_JOB_INTERVAL_SECONDS: "0", CLUSTER_WORKERS: String(WORKERS) });
  const call = async (method: string, path: string, body?: unknown, token = ADMIN) => {
    const res = await fetch(`${server.base}${path}`, { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<Record<string, string>>;
  };
  try {
    // A third of the sales spend points on a typed number. The program accepts that here, so the
    // figures stay comparable with earlier runs: a PIN would add a PBKDF2 to each, and a QR token a
    // mint per sale before the clock starts.
    const { program } = (await call("GET", "/v1/program")) as unknown as { program: Record<string, object> };
    await call("PUT", "/v1/program", { ...program, redemption: { ...program.redemption, allowTypedNumber: true } });
    const partner = await call("POST", "/v1/partners", { name: "Bench Cinema", category: "cinema" });
    const { key } = await call("POST", `/v1/partners/${partner.id}/keys`, { name: "bench" });
    const cards: string[] = [];
    for (let i = 0; i < MEMBERS; i++) {
      const member = await call("POST", "/v1/members", { name: `벤치${i}`, email: `bench${i}@example.com` });
      cards.push((await call("POST", `/v1/members/${member.id}/cards`)).number!);
      await call("POST", `/v1/members/${member.id}/adjustments`, { points: 1_000_000, reason: "bench float" });
    }
    let n = 0;
    const cpuBefore = threadCpuMs(server.child.pid!);
    const result = await run({
      url: `${server.base}/v1/purchases`,
      connections: CONNECTIONS,
      duration: SECONDS,
      requests: [
        {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          setupRequest: (request) => {
            n++;
            // Every sale earns, every third also redeems, each under its own Idempotency-Key.
            const body = { card: { number: cards[n % MEMBERS] }, receiptId: `b-${n}`, amountMinor: 12_000, currency: "KRW", ...(n % 3 === 0 ? { redeemPoints: 100 } : {}) };
            return { ...request, headers: { ...request.headers, "idempotency-key": `bench-${n}` }, body: JSON.stringify(body) };
          },
        },
      ],
    });
    const cpuUs = WORKERS === 1 ? cpuPerPurchase(server.child.pid!, cpuBefore, result.requests.total) : null;
    const check = await call("GET", "/v1/admin/ledger/check");
    return { result, cpuUs, ledgerOk: check.ok as unknown as boolean };
  } finally {
    await server.stop();
  }
}

const hello = await helloWorld();
const { result: buy, cpuUs, ledgerOk } = await purchases();
const failures = buy.non2xx + buy.errors + buy.timeouts;
console.log(
  JSON.stringify({
    bench: "purchases-vs-hello-world",
    connections: CONNECTIONS,
    seconds: SECONDS,
    workers: WORKERS,
    helloRps: Math.round(hello.requests.average),
    purchaseRps: Math.round(buy.requests.average),
    ratio: +(buy.requests.average / hello.requests.average).toFixed(3),
    purchaseP99Ms: buy.latency.p99,
    purchaseP50Ms: buy.latency.p50,
    cpuUsPerPurchase: cpuUs,
    failures,
    ledgerOk,
    targets: { ratio: 0.25, p99Ms: 25 },
  }),
);
