/** Starts the real Node entry (as `npm start` does) on a free port and a temporary database. */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export interface ServerProcess {
  child: ChildProcessWithoutNullStreams;
  base: string;
  stdout: () => string;
  databasePath: string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /**
   * SIGKILL, as a crash or power cut would: the whole process group when started `detached`
   * (a cluster's primary and its workers), else the spawned process. Resolves once every
   * process of it is gone, so the database file is free for the next start.
   */
  kill(): Promise<void>;
}

export interface StartOptions {
  /** Spawns the server as the leader of its own process group, so `kill` can reach its cluster workers. */
  detached?: boolean;
}

/** The live (not zombie) processes of a process group, read from /proc; undefined where there is no /proc. */
export function processGroupMembers(pgid: number): number[] | undefined {
  if (!existsSync("/proc/self/stat")) return undefined;
  const members: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses, so split after the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(pgrp) === pgid && state !== "Z" && state !== "X") members.push(Number(name));
  }
  return members;
}

async function waitForGroupGone(pgid: number, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const members = processGroupMembers(pgid);
    let alive: boolean;
    if (members) alive = members.length > 0;
    else {
      try {
        process.kill(-pgid, 0);
        alive = true;
      } catch {
        alive = false;
      }
    }
    if (!alive) return;
    if (Date.now() > deadline) throw new Error(`process group ${pgid} still alive after SIGKILL: ${members?.join(", ") ?? "?"}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function madeDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "dangol-"));
  madeDirs.add(dir);
  return dir;
}

// The temporary folders made for databases. They outlive each server (a test may restart one on
// the same file); test files remove them in afterAll, scripts when the process exits.
const madeDirs = new Set<string>();

export function removeServerFiles() {
  for (const dir of madeDirs) rmSync(dir, { recursive: true, force: true });
  madeDirs.clear();
}
process.once("exit", removeServerFiles);

export async function startServer(env: Record<string, string> = {}, databasePath?: string, pollMs = 100, options: StartOptions = {}): Promise<ServerProcess> {
  const port = await freePort();
  const dbPath = databasePath ?? join(madeDir(), "dangol.db");
  const detached = options.detached ?? false;
  const child = spawn(process.execPath, ["--import", "tsx", "src/node.ts"], {
    env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", DATABASE_PATH: dbPath, LOG_LEVEL: "warn", ...env },
    detached,
  });
  const killHard = () => {
    if (detached && child.pid !== undefined) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // the group is already gone
      }
    } else child.kill("SIGKILL");
  };
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const base = `http://127.0.0.1:${port}`;
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  // Ready when /health answers (polled every pollMs); give up after 60 s (a cold tsx start on a busy machine is slow).
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early:\n${out}`);
    try {
      if ((await fetch(`${base}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      killHard();
      throw new Error(`server did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
  return {
    child,
    base,
    databasePath: dbPath,
    stdout: () => out,
    stop: async (signal = "SIGTERM") => {
      child.kill(signal);
      return exited;
    },
    kill: async () => {
      killHard();
      await exited;
      if (detached && child.pid !== undefined) await waitForGroupGone(child.pid);
    },
  };
}
