/** Operator commands (`npx dangol <command>`), Node only. Each prints JSON with --json. */
import { parseArgs } from "node:util";
import { runClvCommand } from "./cli/clv.ts";
import { runImportCommand } from "./cli/import.ts";

const usage = `usage: dangol <command> [--json]

commands:
  migrate     apply db/migrations to DATABASE_PATH
  seed-demo   add the demo coalition program to DATABASE_PATH
  recompute   rebuild RFM scores, refit the CLV models and rescore every member
  import      members or a purchase history from a file (dangol import --help)
  clv fit     fit the CLV models to a transaction file or the database (dangol clv --help)`;

async function main(argv: string[]) {
  // clv reads a file, not the database, and has its own flags; loading the app for it would
  // triple its start-up time, so the database commands import what they need here.
  if (argv[0] === "clv") return runClvCommand(argv.slice(1));
  // import opens the database itself, once its flags and file have been checked.
  if (argv[0] === "import") return runImportCommand(argv.slice(1));
  const [{ migrateSqlite }, { parseConfig }, { openNodeDeps }, { seedDemo }] = await Promise.all([
    import("../db/sqlite.ts"),
    import("./config.ts"),
    import("./node.ts"),
    import("./cli/seed/seed-demo.ts"),
  ]);
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: "boolean", default: false }, help: { type: "boolean", default: false } } });
  const [command] = positionals;
  const print = (result: Record<string, unknown>, human: string) => console.log(values.json ? JSON.stringify(result) : human);
  if (!command || values.help) {
    console.log(usage);
    return command || values.help ? 0 : 2;
  }
  const config = parseConfig(process.env);
  const { deps, database } = openNodeDeps(config);
  try {
    switch (command) {
      case "migrate":
        migrateSqlite(database);
        print({ ok: true, database: config.DATABASE_PATH }, `migrated ${config.DATABASE_PATH}`);
        return 0;
      case "seed-demo": {
        migrateSqlite(database);
        const result = await seedDemo(deps);
        print({ ok: true, ...result }, `seeded ${result.partners} partners (${result.stores} stores, ${result.offers} offers), ${result.members} members and ${result.purchases} purchases (${result.refunds} refunded)`);
        return 0;
      }
      case "recompute": {
        const { recompute } = await import("./services/analytics/recompute.ts");
        // Progress for a person watching; nothing when the output goes to a file or a pipe.
        const progress = process.stderr.isTTY ? (step: string, done: number, total: number) => process.stderr.write(`\r${step} ${Math.round(done)}/${Math.round(total)}   `) : undefined;
        const result = await recompute(deps, progress);
        if (progress) process.stderr.write("\n");
        print({ ok: true, ...result }, `scored ${result.members} members (${result.buyers} buyers) in ${(result.durationMs / 1000).toFixed(1)} s`);
        return 0;
      }
      default:
        console.error(`unknown command: ${command}\n\n${usage}`);
        return 2;
    }
  } finally {
    await database.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
