/**
 * Cold start on Node: from spawning the server (as `npm start` does, through tsx) to the first
 * 200 from /health, on an existing database (the usual restart) and on a new one (migrate + seed).
 */
import { rmSync } from "node:fs";
import { dirname } from "node:path";
import { startServer } from "../test/support/server-process.ts";

async function once(env: Record<string, string>, databasePath?: string) {
  const started = performance.now();
  const server = await startServer(env, databasePath, 10);
  const ms = performance.now() - started;
  await server.stop();
  return { ms, databasePath: server.databasePath };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const runs = Number(process.env.RUNS ?? 7);

const fresh: number[] = [];
const warm: number[] = [];
for (let i = 0; i < runs; i++) {
  const first = await once({ SEED_DEMO: "1" });
  fresh.push(first.ms);
  warm.push((await once({ SEED_DEMO: "1" }, first.databasePath)).ms);
  rmSync(dirname(first.databasePath), { recursive: true, force: true });
}
console.log(
  JSON.stringify({
    bench: "node-cold-start",
    runs,
    existingDatabaseMsMedian: Math.round(median(warm)),
    newDatabaseWithSeedMsMedian: Math.round(median(fresh)),
    note: "spawn → first 200 from /health; includes tsx start-up and the readiness poll (10 ms steps)",
  }),
);
