/**
 * Work that runs after the response is sent. A sign-in code's insert and delivery run here, so
 * the answer to "send me a code" takes the same time whether or not the contact is enrolled.
 * On Workers the request's waitUntil keeps the isolate alive for it; on Node the process does,
 * and a shutdown (or a test) waits for `idle()`.
 */
export interface Background {
  /** Runs the task after the caller returns; a failure is reported to `onError`, never thrown. */
  run(task: () => Promise<unknown>, keepAlive?: (promise: Promise<unknown>) => void): void;
  /** Resolves once every task started so far has ended. */
  idle(): Promise<void>;
}

export function createBackground(onError: (error: unknown) => void): Background {
  const running = new Set<Promise<unknown>>();
  return {
    run(task, keepAlive) {
      // A timer, not a microtask: the task starts once the response is on its way, not while it is composed.
      const promise: Promise<unknown> = new Promise((resolve) => setTimeout(resolve, 0))
        .then(task)
        .catch(onError)
        .finally(() => running.delete(promise));
      running.add(promise);
      keepAlive?.(promise);
    },
    async idle() {
      while (running.size > 0) await Promise.all([...running]);
    },
  };
}
