// Builds the page into web-client/dist, the directory wrangler.toml serves as static assets:
// the bundled script, the page and its styles, and everything in public/ as it is.

import { copyFile, cp, mkdir, rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const dist = here("./dist/");

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
await build({
  entryPoints: [here("./src/app.ts")],
  outfile: `${dist}app.js`,
  bundle: true,
  format: "esm",
  minify: true,
  sourcemap: true,
  // Phones a few years old still run Safari 15/16.
  target: ["es2020", "safari15"],
  // @strangers/client from its TypeScript source (package.json's "strangers-source" condition), so no build order matters.
  conditions: ["strangers-source"],
  logLevel: "warning",
});
await Promise.all([
  ...["index.html", "styles.css"].map((file) => copyFile(here(`./${file}`), `${dist}${file}`)),
  cp(here("./public/"), dist, { recursive: true }),
]);
console.log("web-client built into web-client/dist");
