/**
 * What the main thread and the writer thread (db/sqlite-writer.ts) say to each other: one module
 * both import, so the adapter that starts the thread and the thread's entry do not import each other.
 */
import type { Database } from "./database.ts";

/**
 * A statement as sent to the writer: its text by number once the writer has been told the text
 * (statement texts repeat, so each crosses the thread boundary once, not on every purchase).
 */
export type SentStatement = { text: number | string; params: unknown[] };
/** What is queued during one turn of the event loop: units, tasks, and texts the writer has not seen. */
export type WriterRequest =
  | { units: Array<{ id: number; statements: SentStatement[] }>; tasks: Array<{ id: number; name: string; args: unknown }>; texts: Array<[number, string]> }
  | { close: true };
export type WriterReply = { id: number; result: unknown } | { id: number; error: { name: string; message: string; code?: string } };

/** What the module named by OpenOptions.writerTasks exports. */
export type StartWriterTasks = (database: Database, context: unknown) => (name: string, args: unknown) => Promise<unknown>;
