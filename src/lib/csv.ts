/**
 * RFC 4180 CSV: CRLF line ends; a field is quoted when it holds a comma, a quote or a line break,
 * with quotes doubled. Text that a spreadsheet would run as a formula (=, +, -, @ first) is
 * prefixed with an apostrophe (OWASP's advice against CSV injection); numbers are written as is.
 */
export type CsvField = string | number | null;

const FORMULA_START = /^[=+\-@\t\r]/;

function csvField(value: CsvField): string {
  if (value === null) return "";
  if (typeof value === "number") return String(value);
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function toCsv(rows: readonly (readonly CsvField[])[]): string {
  return rows.map((row) => row.map(csvField).join(",")).join("\r\n") + "\r\n";
}
