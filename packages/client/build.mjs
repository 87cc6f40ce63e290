// Builds the package into dist/ (git-ignored): what `npm pack` ships and what apps install.
//
// - JavaScript: esbuild bundles each entry ("." and "./react") into one ES module, with the
//   values it uses from @strangers/protocol inlined (that package is private and never
//   published) and react left to the app.
// - Declarations: tsc emits them from the source, and the protocol's own (values and wire
//   types, no zod) into dist/protocol/. The client's declarations then name
//   "./protocol/index.js" instead of "@strangers/protocol", and the protocol's say "./x.js"
//   where its source says "./x.ts", so the .d.ts files reference nothing outside dist/.
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import ts from "typescript";

const here = fileURLToPath(new URL(".", import.meta.url));
const dist = join(here, "dist");
const protocol = join(here, "../protocol/src");

rmSync(dist, { recursive: true, force: true });

await build({
  entryPoints: { index: join(here, "src/index.ts"), react: join(here, "src/react.ts") },
  outdir: dist,
  bundle: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  external: ["react"],
  logLevel: "warning",
});

const options = {
  target: ts.ScriptTarget.ES2022,
  lib: ["lib.es2022.d.ts"],
  types: [],
  module: ts.ModuleKind.ES2022,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  strict: true,
  declaration: true,
  emitDeclarationOnly: true,
  allowImportingTsExtensions: true,
  skipLibCheck: true,
};
const globals = join(here, "src/globals.d.ts");
emitDeclarations([join(protocol, "index.ts"), globals], {
  ...options,
  rootDir: protocol,
  outDir: join(dist, "protocol"),
});
emitDeclarations([join(here, "src/index.ts"), join(here, "src/react.ts"), globals], {
  ...options,
  rootDir: join(here, "src"),
  outDir: dist,
  // The client compiled against the protocol's declarations just emitted, so none of its source is compiled twice.
  paths: { "@strangers/protocol": [join(dist, "protocol/index.d.ts")] },
});

for (const file of declarationFiles(dist)) {
  const text = readFileSync(file, "utf8");
  const fixed = text
    .replace(/from "@strangers\/protocol"/g, 'from "./protocol/index.js"')
    .replace(/from "(\.\.?\/[^"]+)\.ts"/g, 'from "$1.js"');
  if (/"\.[^"]*\.ts"/.test(fixed)) throw new Error(`${file} still names a source file`);
  if (fixed !== text) writeFileSync(file, fixed);
}

// What an app installs must need nothing but itself (and React, for ./react): any other package
// named by the bundles or the declarations (the protocol, zod) would be missing at the app.
for (const file of readdirSync(dist, { recursive: true }).filter((f) => /\.(js|d\.ts)$/.test(f))) {
  const text = readFileSync(join(dist, file), "utf8");
  const imports =
    /^\s*(?:import|export)\b[^"]*?\bfrom\s*"([^"]+)"|^\s*import\s*"([^"]+)"|\bimport\(\s*"([^"]+)"\s*\)/gm;
  for (const match of text.matchAll(imports)) {
    const specifier = match[1] ?? match[2] ?? match[3];
    if (!specifier.startsWith(".") && specifier !== "react")
      throw new Error(`dist/${file} imports "${specifier}", which an app that installs the package does not have`);
  }
}
console.log("@strangers/client built into packages/client/dist");

function emitDeclarations(rootNames, compilerOptions) {
  const program = ts.createProgram({ rootNames, options: compilerOptions });
  const { diagnostics } = program.emit();
  const all = [...ts.getPreEmitDiagnostics(program), ...diagnostics];
  if (all.length) {
    const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => here, getNewLine: () => "\n" };
    throw new Error(ts.formatDiagnostics(all, host));
  }
}

function declarationFiles(dir) {
  return readdirSync(dir, { recursive: true })
    .filter((f) => f.endsWith(".d.ts"))
    .map((f) => join(dir, f));
}
