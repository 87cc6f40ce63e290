// The layout rules a reviewer would otherwise check by hand: no module of the worker grows past
// MAX_LINES, and no module imports itself back through others (types included: a circle of
// types is a circle of ideas). Run by `npm run typecheck`. The cap catches a module that grew
// by drift; it is set above the largest single concept (a lobby's rules, one state machine),
// because a module is split where its concepts part, never to meet a number.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const DIR = "worker";
const MAX_LINES = 500;

const files = readdirSync(DIR).filter((f) => f.endsWith(".ts"));
const problems = [];
const imports = new Map();
for (const file of files) {
  const source = readFileSync(join(DIR, file), "utf8");
  const lines = source.split("\n").length - 1;
  if (lines > MAX_LINES) problems.push(`${DIR}/${file} has ${lines} lines (at most ${MAX_LINES})`);
  const local = [...source.matchAll(/from\s+"\.\/([\w-]+)(?:\.ts)?"/g)].map((m) => `${m[1]}.ts`);
  imports.set(file, [...new Set(local)]);
}

// Depth-first search; a module met again while still on the path closes a circle.
const done = new Set();
function visit(file, path) {
  if (path.includes(file))
    return problems.push(`import circle: ${[...path.slice(path.indexOf(file)), file].join(" → ")}`);
  if (done.has(file)) return;
  for (const next of imports.get(file) ?? []) visit(next, [...path, file]);
  done.add(file);
}
for (const file of files) visit(file, []);

if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log(`layout ok: ${files.length} modules in ${DIR}/, none over ${MAX_LINES} lines, no import circle`);
