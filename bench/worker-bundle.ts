/** The Worker bundle as `wrangler deploy --dry-run` builds it: raw and gzip sizes. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const outdir = mkdtempSync(join(tmpdir(), "dangol-worker-"));
const log = execFileSync("npx", ["wrangler", "deploy", "--dry-run", "--outdir", outdir], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
const files = readdirSync(outdir).filter((f) => f.endsWith(".js"));
const raw = files.reduce((n, f) => n + statSync(join(outdir, f)).size, 0);
const gzip = files.reduce((n, f) => n + gzipSync(readFileSync(join(outdir, f))).length, 0);
const wranglerLine = log.split("\n").find((l) => l.includes("Total Upload")) ?? "";
console.log(JSON.stringify({ bench: "worker-bundle", files, rawKiB: +(raw / 1024).toFixed(1), gzipKiB: +(gzip / 1024).toFixed(1), wrangler: wranglerLine.trim() }));
