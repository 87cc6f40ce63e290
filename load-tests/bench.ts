/**
 * `npm run bench`: the `chats` scenario at increasing concurrency, against the service
 * (a fresh `wrangler dev` per step) and against the floor (a bare Node relay) under the
 * same driver and load, so each step says how far the service is from what this machine
 * can do at all. Prints a markdown table and writes JSON to bench-results/.
 *
 *   npm run bench -- [--steps 100,1000,2000] [--ramp-rate 25] [--hold 60] [--json]
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { parseArgs } from "node:util";
import { formatSummary, runLoad, type LoadSummary } from "./driver/run.ts";
import { cpuSecondsOf, rssOf, startFloor, startService, type LocalServer } from "./local-server.ts";

/** Open files any one process may hold here; every chat is two sockets on the server. */
const FD_CEILING = 20_000;

type ServerSample = { rssPeakBytes: number; cpuCores: number };
type StepResult = { chats: number; server: "service" | "floor"; load: LoadSummary; resources: ServerSample };

const { values } = parseArgs({
  options: {
    steps: { type: "string", default: "100,500,1000,2000" },
    // Users arriving per second during the ramp; a browser would not arrive faster either.
    "ramp-rate": { type: "string", default: "25" },
    hold: { type: "string", default: "60" },
    json: { type: "boolean", default: false },
  },
});
const steps = values.steps!.split(",").map(Number);
const rampRate = Number(values["ramp-rate"]);
const holdS = Number(values.hold);

async function measure(server: LocalServer, chats: number): Promise<{ load: LoadSummary; resources: ServerSample }> {
  const pids = server.serverPids();
  const cpuBefore = pids.reduce((sum, pid) => sum + cpuSecondsOf(pid), 0);
  const started = Date.now();
  let rssPeakBytes = 0;
  const sampler = setInterval(() => {
    rssPeakBytes = Math.max(rssPeakBytes, pids.reduce((sum, pid) => sum + rssOf(pid), 0));
  }, 1000);
  try {
    const load = await runLoad({ baseUrl: server.baseUrl, chats, rampS: (2 * chats) / rampRate, holdS, rampDownS: 10 });
    const cpuCores = (pids.reduce((sum, pid) => sum + cpuSecondsOf(pid), 0) - cpuBefore) / ((Date.now() - started) / 1000);
    return { load, resources: { rssPeakBytes, cpuCores } };
  } finally {
    clearInterval(sampler);
  }
}

async function step(chats: number, server: StepResult["server"]): Promise<StepResult> {
  const local = server === "service" ? await startService() : await startFloor();
  try {
    console.error(`\n── ${server}: ${chats} chats (${(2 * chats) / rampRate} s ramp, ${holdS} s hold)`);
    const result = { chats, server, ...(await measure(local, chats)) };
    console.error(formatSummary(result.load));
    return result;
  } finally {
    await local.stop();
  }
}

const f = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? "–" : v < 10 ? v.toFixed(1) : v.toFixed(0));
const ratio = (a: number | undefined, b: number | undefined) => (a && b ? `${(a / b).toFixed(1)}×` : "–");
const mib = (b: number) => `${Math.round(b / 2 ** 20)} MiB`;

function table(results: StepResult[]): string {
  const head =
    "| step (chats) | server | chats held | sockets | match p50 / p99 ms | delivery p50 / p95 / p99 ms | service ÷ floor (p50 / p95 / p99) | match success | lost | pairing errors | server RSS | server CPU (cores) | client CPU (max per proc) |";
  const rows = [head, `|${"---|".repeat(13)}`];
  for (const r of results) {
    const d = r.load.trends.delivery_latency;
    const m = r.load.trends.match_time;
    const floor = results.find((o) => o.chats === r.chats && o.server === "floor")?.load.trends.delivery_latency;
    const vsFloor = r.server === "service" ? `${ratio(d?.p50, floor?.p50)} / ${ratio(d?.p95, floor?.p95)} / ${ratio(d?.p99, floor?.p99)}` : "";
    const held = r.load.chatsHeld < r.chats ? `**${r.load.chatsHeld}** of ${r.chats}` : String(r.load.chatsHeld);
    rows.push(
      `| ${r.chats} | ${r.server} | ${held} | ${r.load.socketsPeak} | ${f(m?.p50)} / ${f(m?.p99)} | ${f(d?.p50)} / ${f(d?.p95)} / ${f(d?.p99)} | ${vsFloor} | ${((r.load.rates.match_success ?? 0) * 100).toFixed(1)} % | ${r.load.counters.messages_lost} | ${r.load.counters.pairing_errors} | ${mib(r.resources.rssPeakBytes)} | ${r.resources.cpuCores.toFixed(2)} | ${Math.max(...r.load.clientCpu).toFixed(2)} |`,
    );
  }
  return rows.join("\n");
}

function machine(): string {
  const model = /model name\s*:\s*(.*)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "unknown CPU";
  const version = (pkg: string) => (JSON.parse(readFileSync(`node_modules/${pkg}/package.json`, "utf8")) as { version: string }).version;
  // wrangler runs the workerd it ships, which may differ from the top-level one.
  const workerd = version(existsSync("node_modules/wrangler/node_modules/workerd") ? "wrangler/node_modules/workerd" : "workerd");
  return `${cpus().length} × ${model}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, wrangler ${version("wrangler")}, workerd ${workerd}`;
}

const results: StepResult[] = [];
for (const chats of steps) {
  if (2 * chats > FD_CEILING) console.error(`note: ${chats} chats need ${2 * chats} server sockets, above one process's ${FD_CEILING} open files`);
  results.push(await step(chats, "service"), await step(chats, "floor"));
}

const output = table(results);
const about = `Machine: ${machine()}. Each step: users arrive at ${rampRate}/s, hold ${holdS} s, one message per user every 5 s. ` +
  "Bold chats held: the step did not sustain its target.";
console.log(values.json ? JSON.stringify({ machine: machine(), rampRate, holdS, results }, null, 2) : `${output}\n\n${about}`);
mkdirSync("bench-results", { recursive: true });
const file = `bench-results/bench-${new Date().toISOString().replace(/[:.]/g, "-")}.json`;
writeFileSync(file, JSON.stringify({ machine: machine(), rampRate, holdS, results }, null, 2));
console.error(`\nwrote ${file}`);
