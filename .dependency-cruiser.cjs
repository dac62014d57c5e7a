/**
 * The layering check (npm run lint:layers, part of npm test). Data flows one way:
 * route → service → domain (pure) and store → db. Each rule below holds one line of
 * /work/shared/STYLE.md's "house"; a violation names the rule and the import that broke it.
 * Type-only imports count: a type from the wrong layer couples the layers just the same.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-cycles",
      comment: "An import cycle means two modules cannot be read, tested or moved apart; give the shared part a home of its own.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "domain-is-pure",
      comment: "src/domain/ holds pure rules and maths: no database, no store, no service, no HTTP, no runtime (node:*), so it runs and tests anywhere.",
      severity: "error",
      from: { path: "^src/domain/" },
      to: {
        path: [
          "^db/",
          "^src/(services|store|routes|web|cli)/",
          "^src/(app|node|worker|deps|cli|writer-tasks|first-run)\\.ts$",
          "^node_modules/(hono|@hono/[^/]+|drizzle-orm|better-sqlite3)/",
        ],
      },
    },
    {
      name: "domain-no-node-builtins",
      comment: "src/domain/ uses no runtime module (node:fs, node:crypto …): it is web-standard and pure.",
      severity: "error",
      from: { path: "^src/domain/" },
      to: { dependencyTypes: ["core"] },
    },
    {
      name: "routes-build-no-sql",
      comment: "src/routes/ is the HTTP surface: it authorizes, calls a verb and shapes the answer. SQL (db/, drizzle-orm) and statement builders (src/store/) belong below it.",
      severity: "error",
      from: { path: "^src/routes/" },
      to: { path: ["^db/", "^src/store/", "^node_modules/(drizzle-orm|better-sqlite3)/"] },
    },
    {
      name: "db-knows-nothing-of-src",
      comment: "db/ (schema, migrations, the two adapters) is the bottom layer: it imports nothing from src/.",
      severity: "error",
      from: { path: "^db/" },
      // The one exception: the members' closed vocabularies (genders, consent channels), which the
      // schema's column enums, the domain and the API all use, defined once.
      to: { path: "^src/", pathNot: "^src/domain/members\\.ts$" },
    },
    {
      name: "vocabularies-stand-alone",
      comment: "src/domain/members.ts is imported by db/schema.ts, so it imports nothing: no path from db/ back into src/.",
      severity: "error",
      from: { path: "^src/domain/members\\.ts$" },
      to: {},
    },
    {
      name: "lib-and-store-stay-below-services",
      comment: "src/lib/ (thin library wrappers) and src/store/ (shared statement builders and reads) are called by services; they never call services, routes, the web pages or the CLI.",
      severity: "error",
      from: { path: "^src/(lib|store)/" },
      to: { path: ["^src/(services|routes|web|cli)/", "^src/(app|node|worker|cli|writer-tasks|first-run)\\.ts$"] },
    },
    {
      name: "services-stay-below-routes",
      comment: "src/services/ holds the verbs; HTTP (src/routes/, src/web/, the app), the entries and the CLI sit above them and are never imported by them.",
      severity: "error",
      from: { path: "^src/services/" },
      to: { path: ["^src/(routes|web|cli)/", "^src/(app|node|worker|cli|writer-tasks|first-run)\\.ts$"] },
    },
    {
      name: "errors-free-of-http",
      comment: "src/errors.ts holds the stable error codes and AppError as plain data; the problem+json response and its OpenAPI declarations live in src/routes/shared/problem.ts.",
      severity: "error",
      from: { path: "^src/errors\\.ts$" },
      to: { path: ["^node_modules/(hono|@hono/[^/]+)/", "^src/routes/"] },
    },
    {
      name: "not-to-unresolvable",
      comment: "An import that resolves to nothing is a typo or a missing dependency.",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(dist|\\.wrangler)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      mainFields: ["module", "main", "types", "typings"],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
