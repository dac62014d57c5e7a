/**
 * The writer thread behind openSqlite(path, { writerThread: true }): it owns the connection that
 * writes, runs each unit it is sent through group commit, and answers once the commit is durable.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { RenderedStatement } from "./database.ts";
import { createCommitQueue } from "./group-commit.ts";
import { connect } from "./sqlite.ts";

export type WriterRequest = { id: number; statements: RenderedStatement[] } | { close: true };
export type WriterReply = { id: number; changes: number[] } | { id: number; error: { name: string; message: string; code?: string } };

function reported(error: unknown) {
  if (!(error instanceof Error)) return { name: "Error", message: String(error) };
  const code = (error as { code?: unknown }).code;
  return { name: error.name, message: error.message, ...(typeof code === "string" && { code }) };
}

// Imported for its types by db/sqlite.ts as well; only a worker thread has work to do here.
if (parentPort && workerData?.path) {
  const port = parentPort;
  const sqlite = connect(workerData.path as string);
  const queue = createCommitQueue(sqlite, (s: RenderedStatement) => sqlite.prepare(s.sql).run(...s.params).changes);
  port.on("message", (request: WriterRequest) => {
    if ("close" in request) {
      queue.flush();
      sqlite.close();
      // The flushed units' replies are posted from promise callbacks, which run before this.
      setImmediate(() => port.close());
      return;
    }
    queue.enqueue(request.statements).then(
      (changes) => port.postMessage({ id: request.id, changes } satisfies WriterReply),
      (error: unknown) => port.postMessage({ id: request.id, error: reported(error) } satisfies WriterReply),
    );
  });
}
