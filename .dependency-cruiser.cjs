// The dependency rules ARCHITECTURE.md draws, checked by `npm run typecheck` (depcruise).
// Imports point one way: http → matching → room → trust, moderation, stats → platform → protocol.
const DOMAINS = "matching|room|trust|moderation|stats";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "A circle of imports (types included) is a circle of ideas: neither part can be read first.",
      from: {},
      to: { circular: true },
    },
    {
      name: "no-unresolvable",
      severity: "error",
      comment: "An import that resolves to nothing.",
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: "only-http-uses-http",
      severity: "error",
      comment: "The routes sit on top: nothing below imports them.",
      from: { path: "^worker/", pathNot: "^worker/(http/|index\\.ts$)" },
      to: { path: "^worker/http/" },
    },
    {
      name: "platform-knows-no-domain",
      severity: "error",
      comment:
        "The platform (config, errors, log, stubs, metering, the socket base) serves every domain and knows none.",
      from: { path: "^worker/platform/" },
      to: { path: `^worker/(http|${DOMAINS})/` },
    },
    {
      name: "leaf-domains-stand-alone",
      severity: "error",
      comment: "Trust, moderation and stats are used by matching and the room and use no other domain.",
      from: { path: "^worker/(trust|moderation|stats)/" },
      to: { path: `^worker/(${DOMAINS})/`, pathNot: "^worker/$1/" },
    },
    {
      name: "room-does-not-match",
      severity: "error",
      comment: "Matching opens rooms; a room knows nothing of how its pair was found.",
      from: { path: "^worker/room/" },
      to: { path: "^worker/matching/" },
    },
    {
      name: "protocol-is-a-leaf",
      severity: "error",
      comment: "The protocol package depends on nothing of ours (only zod, for its schemas entry).",
      from: { path: "^packages/protocol/" },
      to: { path: "^(worker|web-client|load-tests|test|packages/(?!protocol/))" },
    },
    {
      name: "protocol-entry-needs-no-zod",
      severity: "error",
      comment: "What clients import from the protocol (its entry) reaches neither zod nor the schemas.",
      from: { path: "^packages/protocol/src/", pathNot: "^packages/protocol/src/schemas\\.ts$" },
      to: { path: "^(packages/protocol/src/schemas\\.ts$|node_modules/zod/)" },
    },
    {
      name: "worker-is-no-client",
      severity: "error",
      comment: "The worker speaks the protocol; it never imports the client library.",
      from: { path: "^worker/" },
      to: { path: "^packages/client/" },
    },
    {
      name: "apps-use-the-client-by-its-entries",
      severity: "error",
      comment:
        "The page (and the load tools) use the client package as an app does: through its entries, never its files.",
      from: { path: "^(web-client|load-tests)/" },
      to: { path: "^packages/client/", pathNot: "^packages/client/src/(index|react)\\.ts$" },
    },
    {
      name: "clients-use-only-the-protocol",
      severity: "error",
      comment:
        "A client (the package, the page, the load driver) imports nothing of the worker, and no zod: only the protocol's entry.",
      from: { path: "^(packages/client|web-client|load-tests)/", pathNot: "^load-tests/reference/" },
      to: { path: "^(worker/|packages/protocol/src/schemas\\.ts$|node_modules/zod/)" },
    },
    {
      name: "no-test-code-in-production",
      severity: "error",
      comment: "Nothing the service or a client ships imports a test.",
      from: { path: "^(worker|packages/[^/]+/src|web-client/src)/" },
      to: { path: "(^test/|/test/|\\.test\\.ts$)" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // node_modules is not excluded (only not followed), so an import of zod is seen and judged.
    exclude: { path: "(^|/)(dist|\\.wrangler)/" },
    tsConfig: { fileName: "tsconfig.json" },
    tsPreCompilationDeps: true,
    combinedDependencies: false,
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["strangers-source", "import", "types", "default"],
      extensions: [".ts", ".mjs", ".js", ".d.ts"],
    },
    builtInModules: { add: ["cloudflare:workers", "cloudflare:test"] },
  },
};
