/**
 * The writer thread behind openSqlite(path, { writerThread: true }): it owns the connection that
 * writes, runs each unit it is sent through group commit, and answers once the commit is durable.
 */
import { parentPort, workerData } from "node:worker_threads";
import { createCommitQueue } from "./group-commit.ts";
import { connect } from "./sqlite.ts";

/**
 * A statement as sent to the writer: its text by number once the writer has been told the text
 * (statement texts repeat, so each crosses the thread boundary once, not on every purchase).
 */
export type SentStatement = { text: number | string; params: unknown[] };
/** The units queued during one turn of the event loop, with any texts the writer has not seen. */
export type WriterRequest = { units: Array<{ id: number; statements: SentStatement[] }>; texts: Array<[number, string]> } | { close: true };
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
  const texts = new Map<number, string>();
  const queue = createCommitQueue(sqlite, (s: SentStatement) => sqlite.prepare(typeof s.text === "string" ? s.text : texts.get(s.text)!).run(...s.params).changes);
  port.on("message", (request: WriterRequest) => {
    if ("close" in request) {
      queue.flush();
      sqlite.close();
      // The flushed units' replies are posted from promise callbacks, which run before this.
      setImmediate(() => port.close());
      return;
    }
    for (const [number, text] of request.texts) texts.set(number, text);
    for (const unit of request.units) {
      queue.enqueue(unit.statements).then(
        (changes) => port.postMessage({ id: unit.id, changes } satisfies WriterReply),
        (error: unknown) => port.postMessage({ id: unit.id, error: reported(error) } satisfies WriterReply),
      );
    }
  });
}
