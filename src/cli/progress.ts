/**
 * A progress bar on stderr for a person watching: drawn only when stderr is a terminal, so a
 * redirected stderr holds errors, not a counter. Redrawn at most ten times a second.
 */
export interface Progress {
  /** `fraction` in [0, 1], or undefined when the total is not known; `detail` follows the bar. */
  update(fraction: number | undefined, detail: string): void;
  /** Clears the line (once; calling it again does nothing). */
  end(): void;
}

const WIDTH = 30;

export function createProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return { update() {}, end() {} };
  let drawnAt = 0;
  let drawn = false;
  return {
    update(fraction, detail) {
      const now = Date.now();
      if (now - drawnAt < 100) return;
      drawnAt = now;
      drawn = true;
      const bar =
        fraction === undefined
          ? ""
          : `[${"#".repeat(Math.round(Math.min(1, Math.max(0, fraction)) * WIDTH)).padEnd(WIDTH, ".")}] ${String(Math.floor(fraction * 100)).padStart(3)}%  `;
      stream.write(`\r\x1b[K${bar}${detail}`);
    },
    end() {
      if (drawn) stream.write("\r\x1b[K");
      drawn = false;
    },
  };
}
