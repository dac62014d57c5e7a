/**
 * Structured JSON logs, one object a line. Callers pass only safe fields; `redact` is the second
 * line of defence and scrubs anything that looks like a bearer secret, a JWS, an email or a phone.
 */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

const secretPatterns: [RegExp, string][] = [
  [/\beyJ[\w-]*\.[\w-]*\.[\w-]*/g, "[jws]"],
  [/\bdg_(admin|pk)_[\w-]+/g, "[secret]"],
  [/\bBearer\s+\S+/gi, "Bearer [secret]"],
  [/[\w.+-]+@[\w-]+(\.[\w-]+)+/g, "[email]"],
  // Digit runs that stand alone (not inside a UUID or an id), like 010-1234-5678 or +821012345678.
  [/(?<![\w-])\+?\d[\d\s-]{7,}\d(?![\w-])/g, "[phone]"],
];

export function redact(text: string): string {
  return secretPatterns.reduce((out, [pattern, mask]) => out.replace(pattern, mask), text);
}

export function createLogger(
  level: LogLevel,
  write: (line: string) => void = (line) => console.log(line),
): Logger {
  const emit = (lvl: Exclude<LogLevel, "silent">) => (msg: string, fields: LogFields = {}) => {
    if (rank[lvl] < rank[level]) return;
    const safe: LogFields = {};
    for (const [key, value] of Object.entries(fields)) {
      safe[key] = typeof value === "string" ? redact(value) : value;
    }
    write(JSON.stringify({ time: new Date().toISOString(), level: lvl, msg: redact(msg), ...safe }));
  };
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error") };
}

/**
 * A loggable summary of an unexpected error: names and first lines only. Drizzle puts a failed
 * query's parameters (member data) after the first line, so those never reach the log.
 */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  for (let e = error, depth = 0; depth < 4 && e !== undefined; depth++) {
    if (!(e instanceof Error)) {
      parts.push(typeof e);
      break;
    }
    parts.push(`${e.name}: ${e.message.split("\n")[0]}`);
    e = e.cause;
  }
  return redact(parts.join(" ← "));
}
