/**
 * `dangol import members|transactions <file>`: members and purchase histories from another system's
 * export into DATABASE_PATH, read as a stream, with a report of every line not taken. Node only
 * (reads the file); the work is in services/imports/members.ts and services/imports/transactions.ts.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { basename } from "node:path";
import { createInterface } from "node:readline";
import { ColumnNotFoundError, type DateFormat } from "../domain/delimited.ts";
import type { MemberImportReport } from "../services/imports/members.ts";
import type { TransactionImportReport } from "../services/imports/transactions.ts";
import type { IssueList } from "../services/imports/imports.ts";
import type { InteractionChannel } from "../domain/interactions.ts";
import { TransactionFileError } from "../domain/clv/fit.ts";
import { count, currencyScaleOf, delimitedFileFlags, delimiterOf, fixed, optionalColumn, parseCommandLine, UsageError, withDatabase, withoutByteOrderMark } from "./args.ts";
import { createProgress } from "./progress.ts";

export const importUsage = `usage: dangol import members <file> [options]
       dangol import transactions <file> [options]

members: one member a line. A member needs an id (the source system's), a name and a valid email or
phone; a bad birth date, gender or region is left out with a warning. The same id twice in the file,
or an email or phone another member already has, is a duplicate. Running the file again enrols
nobody twice (each member's id is kept on its enrolment).
  --id-col COL           the source's member id (default: external_id, member_id, customer_id, id, …; 1 without a header)
  --name-col COL         (default: name, full_name, 이름, …; 2 without a header)
  --email-col COL        (default: email, email_address, 이메일, …)
  --phone-col COL        (default: phone, mobile, tel, 전화번호, …; Korean local numbers accepted)
  --birth-date-col COL   (default: birth_date, dob, 생년월일, …; YYYY-MM-DD, YYYYMMDD, YYYY/MM/DD or YYYY.MM.DD)
  --gender-col COL       (default: gender, sex, 성별; female/male/other/undisclosed, f/m, 여/남 …)
  --region-col COL       (default: region, city, 지역, …)

transactions: one purchase a line, of a member a members import brought in (by the same id).
Each becomes a "purchase" interaction on its date and adds to the member's profile like a purchase
at a till, but earns no points. Running the file again writes nothing twice.
  --id-col, --date-col, --amount-col, --date-format   as for dangol clv fit
  --txn-id-col COL       the source's transaction id, the key that recognises a line again
                         (default: member id + date + line number, so keep the file as it is)
  --currency-scale N     minor units per unit of the amounts: 100 for dollars and cents (default 1)
  --channel C            store, web, app, call_centre, email or sms (default store)
  --partner-id ID        the partner the purchases were made at (default: none; favourites say "import")
  --create-members       enrol a placeholder member "Imported <id>" for an id no import knows
  --sorted               stream the file instead of sorting it in memory: each member's lines must
                         then be in date order (for files too large to hold)

both:
  --delimiter D          comma, tab, semicolon, whitespace or one character (default: from the first line)
  --no-header            the first line is data
  --json                 print one JSON object instead of a summary

Dates are calendar dates in the program's time zone: a purchase is stored at local midnight of the
date written (the time of day, if any, is not kept).

exit codes: 0 imported (lines not taken are in the report), 1 no line usable, 2 bad usage`;

const memberFlags = ["name-col", "email-col", "phone-col", "birth-date-col", "gender-col", "region-col"] as const;
const transactionFlags = ["date-col", "amount-col", "txn-id-col", "date-format", "currency-scale", "channel", "partner-id", "create-members", "sorted"] as const;
const channels: readonly InteractionChannel[] = ["store", "web", "app", "call_centre", "email", "sms"];

/** Runs `import …` with the arguments after "import"; resolves to the exit code. */
export async function runImportCommand(argv: string[]): Promise<number> {
  try {
    return await runImport(argv);
  } catch (error) {
    // By name: the services load only when a command needs them, and their classes with them.
    const column = error instanceof ColumnNotFoundError || (error instanceof TransactionFileError && error.code === "column_not_found");
    if (error instanceof UsageError || column || (error instanceof Error && error.name === "TransactionImportError")) {
      process.stderr.write(`dangol import: ${error.message}${error instanceof UsageError ? "\n(dangol import --help lists the options)" : ""}\n`);
      return 2;
    }
    throw error;
  }
}

async function runImport(argv: string[]): Promise<number> {
  const { values, positionals } = parseUsage(argv);
  if (values.help) {
    console.log(importUsage);
    return 0;
  }
  const [kind, path, ...extra] = positionals;
  if (kind !== "members" && kind !== "transactions") throw new UsageError(kind ? `unknown import: ${kind} (members or transactions)` : "missing what to import: members or transactions");
  if (!path) throw new UsageError(`missing the ${kind} file`);
  if (extra.length > 0) throw new UsageError(`unexpected argument: ${extra[0]}`);
  const foreign = (kind === "members" ? transactionFlags : memberFlags).find((flag) => values[flag] !== undefined);
  if (foreign) throw new UsageError(`--${foreign} is not an option of import ${kind}`);
  const fileStat = await stat(path).catch(() => undefined);
  if (!fileStat?.isFile()) throw new UsageError(`no such file: ${path}`);
  const delimiter = delimiterOf(values.delimiter ?? "auto");
  const header = !values["no-header"];
  const column = (flag: keyof typeof values & `${string}-col`) => optionalColumn(`--${flag}`, values[flag] as string | undefined);

  // Checked before the database is opened: a typo costs nothing.
  const transactionOptions =
    kind === "transactions"
      ? {
          format: {
            delimiter,
            header,
            idColumn: column("id-col"),
            dateColumn: column("date-col"),
            amountColumn: column("amount-col"),
            txnIdColumn: column("txn-id-col"),
            dateFormat: dateFormatOf(values["date-format"] ?? "auto"),
          },
          currencyScale: values["currency-scale"] === undefined ? 1 : currencyScaleOf(values["currency-scale"]),
          channel: channelOf(values.channel ?? "store"),
          ...(values["partner-id"] !== undefined && { partnerId: values["partner-id"] }),
          createMembers: values["create-members"] ?? false,
          inputSorted: values.sorted ?? false,
        }
      : undefined;
  const memberFormat = {
    delimiter,
    header,
    columns: {
      id: column("id-col"),
      name: column("name-col"),
      email: column("email-col"),
      phone: column("phone-col"),
      "birth-date": column("birth-date-col"),
      gender: column("gender-col"),
      region: column("region-col"),
    },
  };

  const file = basename(path);
  const progress = createProgress();
  // The file is opened only when the import is ready to read it: readline drops the lines it
  // emits before anyone iterates, and opening the database comes first.
  const read = <T>(consume: (lines: AsyncIterable<string>, readFraction: () => number) => Promise<T>): Promise<T> => {
    const stream = createReadStream(path, { encoding: "utf8" });
    const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
    return consume(withoutByteOrderMark(lines), () => (fileStat.size > 0 ? stream.bytesRead / fileStat.size : 1)).finally(() => {
      lines.close();
      stream.destroy();
    });
  };
  try {
    if (transactionOptions) {
      const { importTransactions } = await import("../services/imports/transactions.ts");
      const report = await withDatabase((deps) =>
        read((lines, readFraction) =>
          importTransactions(deps, lines, {
            ...transactionOptions,
            file,
            onProgress: ({ stage, linesRead, written, total }) =>
              stage === "reading"
                ? progress.update(readFraction(), `read ${count(linesRead)} lines`)
                : progress.update(total ? written / total : undefined, `writing ${count(written)} of ${count(total ?? 0)} purchases`),
          }),
        ),
      );
      progress.end();
      console.log(values.json ? JSON.stringify({ ok: true, file: path, ...report }) : describeTransactions(file, report));
      return report.records > 0 && report.imported + report.alreadyImported === 0 ? 1 : 0;
    }
    const { importMembers } = await import("../services/imports/members.ts");
    const report = await withDatabase((deps) =>
      read((lines, readFraction) =>
        importMembers(deps, lines, {
          format: memberFormat,
          file,
          onProgress: ({ linesRead, imported }) => progress.update(readFraction(), `read ${count(linesRead)} lines, imported ${count(imported)} members`),
        }),
      ),
    );
    progress.end();
    console.log(values.json ? JSON.stringify({ ok: true, file: path, ...report }) : describeMembers(file, report));
    return report.records > 0 && report.imported + report.completed + report.alreadyImported === 0 ? 1 : 0;
  } finally {
    progress.end();
  }
}

function parseUsage(argv: string[]) {
  return parseCommandLine(argv, {
    ...delimitedFileFlags,
    "name-col": { type: "string" },
    "email-col": { type: "string" },
    "phone-col": { type: "string" },
    "birth-date-col": { type: "string" },
    "gender-col": { type: "string" },
    "region-col": { type: "string" },
    "txn-id-col": { type: "string" },
    channel: { type: "string" },
    "partner-id": { type: "string" },
    "create-members": { type: "boolean" },
    sorted: { type: "boolean" },
  });
}

function dateFormatOf(value: string): DateFormat {
  const format = value.toUpperCase().replace(/^AUTO$/, "auto");
  if (format !== "auto" && format !== "YYYYMMDD" && format !== "YYYY-MM-DD" && format !== "ISO") {
    throw new UsageError(`--date-format must be auto, YYYYMMDD, YYYY-MM-DD or ISO, not ${value}`);
  }
  return format;
}

function channelOf(value: string): InteractionChannel {
  const channel = channels.find((c) => c === value);
  if (!channel) throw new UsageError(`--channel must be one of ${channels.join(", ")}, not ${JSON.stringify(value)}`);
  return channel;
}

/** Up to 20 issues of a kind, then how many more. */
function issueLines(label: string, list: IssueList): string[] {
  const shown = list.lines.slice(0, 20).map((issue) => `  line ${issue.line}: ${label}${issue.reason}`);
  const more = list.count - shown.length;
  return more > 0 ? [...shown, `  … and ${count(more)} more`] : shown;
}

export function describeMembers(file: string, r: MemberImportReport): string {
  const completed = r.completed > 0 ? `, ${count(r.completed)} placeholders completed` : "";
  const out = [
    `${file}: ${count(r.lines)} lines, ${count(r.records)} records: ${count(r.imported)} imported${completed}, ${count(r.alreadyImported)} already imported, ` +
      `${count(r.duplicates.count)} duplicates, ${count(r.rejected.count)} rejected, ${count(r.warnings.count)} warnings`,
    ...issueLines("", r.rejected),
    ...issueLines("duplicate: ", r.duplicates),
    ...issueLines("warning: ", r.warnings),
  ];
  const q = r.dataQuality;
  out.push(
    `data quality: ${count(q.withoutValidContact)} of ${count(r.records)} records (${fixed(q.rate * 100, 1)}%) have no valid email or phone ` +
      `(${count(q.invalidEmails)} invalid emails, ${count(q.invalidPhones)} invalid phones, ${count(q.noContactGiven)} with neither given)`,
  );
  return out.join("\n");
}

export function describeTransactions(file: string, r: TransactionImportReport): string {
  const created = r.membersCreated > 0 ? ` (${count(r.membersCreated)} placeholder members created)` : "";
  const dates = r.firstPurchaseDate ? `; dates ${r.firstPurchaseDate} … ${r.lastPurchaseDate}` : "";
  return [
    `${file}: ${count(r.lines)} lines, ${count(r.records)} records: ${count(r.imported)} purchases imported${created}, ${count(r.alreadyImported)} already imported, ` +
      `${count(r.duplicates.count)} duplicates, ${count(r.rejected.count)} rejected`,
    ...issueLines("", r.rejected),
    ...issueLines("duplicate: ", r.duplicates),
    `imported amount ${count(r.amountMinor)} (minor units)${dates}; ${r.order}`,
  ].join("\n");
}
