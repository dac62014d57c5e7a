/**
 * The writer thread behind openSqlite(path, { writerThread: true }): it owns the connection that
 * writes, runs each unit it is sent through group commit, and answers once the commit is durable.
 * It also runs whole operations (tasks) beside that connection, when given a module of them.
 */
import { parentPort, workerData } from "node:worker_threads";
import { openSqlite } from "./sqlite.ts";
import type { StartWriterTasks, WriterReply, WriterRequest } from "./writer-protocol.ts";

function reported(error: unknown) {
  if (!(error instanceof Error)) return { name: "Error", message: String(error) };
  const code = (error as { code?: unknown }).code;
  return { name: error.name, message: error.message, ...(typeof code === "string" && { code }) };
}

// Loaded only as a worker thread's entry (db/sqlite.ts starts it by URL); elsewhere it does nothing.
if (parentPort && workerData?.path) {
  const port = parentPort;
  // The thread's own connection, group-committed: units from the main thread and the tasks' own
  // writes share its commits.
  const database = openSqlite(workerData.path as string);
  const runTask = workerData.tasks
    ? ((await import(workerData.tasks.module as string)) as { startWriterTasks: StartWriterTasks }).startWriterTasks(database, workerData.tasks.context)
    : null;
  const texts = new Map<number, string>();
  const answer = (id: number, work: Promise<unknown>) =>
    work.then(
      (result) => port.postMessage({ id, result } satisfies WriterReply),
      (error: unknown) => port.postMessage({ id, error: reported(error) } satisfies WriterReply),
    );
  port.on("message", (request: WriterRequest) => {
    if ("close" in request) {
      // The flushed units' replies are posted from promise callbacks, which run before this.
      void database.close().then(() => setImmediate(() => port.close()));
      return;
    }
    for (const [number, text] of request.texts) texts.set(number, text);
    for (const unit of request.units) {
      answer(unit.id, database.atomic(unit.statements.map((s) => ({ sql: typeof s.text === "string" ? s.text : texts.get(s.text)!, params: s.params }))));
    }
    for (const task of request.tasks) {
      answer(task.id, runTask ? runTask(task.name, task.args) : Promise.reject(new Error(`The writer thread runs no tasks (asked for ${task.name}).`)));
    }
  });
}
