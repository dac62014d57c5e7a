/**
 * What the hardware allows, for reading bench/purchases.ts: hello-world, a JSON POST with no
 * database, and a JSON POST with one insert committed with synchronous=NORMAL and =FULL, alone
 * or group-committed.
 */
import autocannon from "autocannon";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../test/support/server-process.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const body = JSON.stringify({ card: { number: "9410123412341234" }, receiptId: "r-1", amountMinor: 12000, currency: "KRW" });

async function measure(script: string, env: Record<string, string>, post: boolean) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "dangol-bound-"));
  const child = spawn(process.execPath, ["--import", "tsx", script], { env: { ...process.env, ...env, PORT: String(port), DATABASE_PATH: join(dir, "b.db") } });
  await new Promise<void>((resolve) => child.stdout.on("data", () => resolve()));
  try {
    const result = await autocannon({ url: `http://127.0.0.1:${port}/`, connections: 64, duration: SECONDS, ...(post && { method: "POST" as const, body, headers: { "content-type": "application/json" } }) });
    return { rps: Math.round(result.requests.average), p99Ms: result.latency.p99 };
  } finally {
    child.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
}

const hello = await measure("bench/hello-server.ts", {}, false);
const json = await measure("bench/bound-server.ts", { MODE: "json" }, true);
const normal = await measure("bench/bound-server.ts", { MODE: "normal" }, true);
const full = await measure("bench/bound-server.ts", { MODE: "full" }, true);
const group = await measure("bench/bound-server.ts", { MODE: "group" }, true);
const ratio = (x: { rps: number }) => +(x.rps / hello.rps).toFixed(3);
console.log(JSON.stringify({ bench: "bounds", hello, jsonPost: { ...json, ratio: ratio(json) }, insertNormal: { ...normal, ratio: ratio(normal) }, insertFull: { ...full, ratio: ratio(full) }, insertFullGroupCommit: { ...group, ratio: ratio(group) } }));
