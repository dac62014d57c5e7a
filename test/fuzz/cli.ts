/**
 * npm run fuzz -- [--seed N] [--requests N] [--from N]
 *
 * Sends the requests (50,000 by default; a random seed unless given), prints a summary and each
 * failure with its seed and index, and how to replay it. Exits 1 when anything failed.
 */
import { parseArgs } from "node:util";
import { runFuzz } from "./run.ts";

const { values } = parseArgs({
  options: {
    seed: { type: "string" },
    requests: { type: "string", default: "50000" },
    from: { type: "string", default: "0" },
  },
});

const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const requests = Number(values.requests);
const from = Number(values.from);
if (![seed, requests, from].every(Number.isSafeInteger) || requests < 1 || from < 0) {
  console.error("usage: npm run fuzz -- [--seed N] [--requests N] [--from N]");
  process.exit(2);
}

console.log(`fuzzing: seed ${seed}, ${requests} requests from #${from}`);
const started = Date.now();
const report = await runFuzz({ seed, requests, from, onProgress: (sent) => sent % 10_000 === 0 && console.log(`  ${sent} sent`) });
const seconds = ((Date.now() - started) / 1000).toFixed(1);

const byClass = Object.entries(report.statuses)
  .sort(([a], [b]) => Number(a) - Number(b))
  .map(([status, n]) => `${status}×${n}`)
  .join(" ");
const reached = report.operations.filter((o) => report.successes[o]);
console.log(`sent ${report.sent} in ${seconds} s; statuses ${byClass}`);
console.log(`operations answered 2xx at least once: ${reached.length} of ${report.operations.length}`);
const never = report.operations.filter((o) => !report.successes[o]);
for (const o of never) console.log(`  never 2xx: ${o} (unbent requests got ${JSON.stringify(report.unbent[o] ?? {})})`);

for (const f of report.failures) {
  console.log(`\nFAIL seed ${f.seed} #${f.index} ${f.operation} as ${f.role} [${f.mutations.join(", ")}] → ${f.status}`);
  for (const v of f.violations) console.log(`  - ${v}`);
  console.log(`  request: ${f.request}`);
  console.log(`  answer:  ${f.answer}`);
  console.log(`  replay:  npm run fuzz -- --seed ${f.seed} --from ${f.index} --requests 1`);
}
if (report.failureCount > report.failures.length) console.log(`\n…and ${report.failureCount - report.failures.length} more failures`);
console.log(report.failureCount === 0 ? `\nok: seed ${seed}, ${report.sent} requests, no failures` : `\n${report.failureCount} failures (seed ${seed})`);
process.exit(report.failureCount === 0 ? 0 : 1);
