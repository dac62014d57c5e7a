/** Time as dangol stores it (UTC epoch milliseconds) and shows it (ISO-8601 on the wire). */
export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

/** An instant as the API shows it. */
export const isoTime = (ms: number) => new Date(ms).toISOString();

/** The UTC calendar day of an instant, YYYY-MM-DD (shift it first for a local day). */
export const isoDate = (ms: number) => isoTime(ms).slice(0, 10);

/** The same, for an instant that may not have happened yet. */
export const isoTimeOrNull = (ms: number | null | undefined) => (ms == null ? null : isoTime(ms));
