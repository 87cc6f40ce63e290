/**
 * `npm run bench`: the `chats` scenario at increasing concurrency, against the service
 * (a fresh workerd per step, no `wrangler dev` proxy in front: see local-server.ts) and
 * against the floor (a bare Node relay) under the same driver and load, so each step says
 * how far the service is from what this machine can do at all. Once the service fails a
 * step it is not run at higher ones (the floor still is). Prints a markdown table and
 * writes JSON to bench-results/.
 *
 * Then the idle phase: chats that only ping (every 10 s, like the web page) for a minute,
 * and what the server spends on them per idle chat-minute, service beside floor.
 *
 *   npm run bench -- [--steps 100,1000,2000] [--ramp-rate 25] [--hold 60] [--idle-chats 1000] [--idle 60] [--json]
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { parseArgs } from "node:util";
import { formatSummary, runLoad, type LoadSummary } from "./driver/run.ts";
import { cpuSecondsOf, openFilesOf, rssOf, startFloor, startService, type LocalServer } from "./local-server.ts";

/** Open files any one process may hold here. */
const FD_CEILING = 20_000;
/** What workerd holds per chat during the hold: 2 files per client socket, 3 for the room's SQLite. */
const SERVER_FILES_PER_CHAT = 2 * 2 + 3;
/**
 * Vars for the service's runs: no per-message log line, whose cost is the log pipeline's
 * (Workers Logs in production), not the service's.
 */
const SERVICE_VARS = { MESSAGE_LOG_SAMPLE_RATE: "0" };

/** openFilesPeak: the busiest server process, since the ceiling is per process. */
type ServerSample = { rssPeakBytes: number; cpuCores: number; openFilesPeak: number };
type StepResult = { chats: number; server: "service" | "floor"; load: LoadSummary; resources: ServerSample };

const { values } = parseArgs({
  options: {
    steps: { type: "string", default: "100,500,1000,2000" },
    // Users arriving per second during the ramp; a browser would not arrive faster either.
    "ramp-rate": { type: "string", default: "25" },
    hold: { type: "string", default: "60" },
    "idle-chats": { type: "string", default: "1000" },
    idle: { type: "string", default: "60" },
    json: { type: "boolean", default: false },
  },
});
const steps = values.steps!.split(",").filter(Boolean).map(Number);
const idleChats = Number(values["idle-chats"]);
const idleS = Number(values.idle);
const rampRate = Number(values["ramp-rate"]);
const holdS = Number(values.hold);

async function measure(server: LocalServer, chats: number): Promise<{ load: LoadSummary; resources: ServerSample }> {
  const pids = server.serverPids();
  const cpuBefore = pids.reduce((sum, pid) => sum + cpuSecondsOf(pid), 0);
  const started = Date.now();
  let rssPeakBytes = 0;
  let openFilesPeak = 0;
  const sampler = setInterval(() => {
    rssPeakBytes = Math.max(rssPeakBytes, pids.reduce((sum, pid) => sum + rssOf(pid), 0));
    openFilesPeak = Math.max(openFilesPeak, ...pids.map(openFilesOf));
  }, 1000);
  try {
    const load = await runLoad({ baseUrl: server.baseUrl, chats, rampS: (2 * chats) / rampRate, holdS, rampDownS: 10 });
    const cpuCores = (pids.reduce((sum, pid) => sum + cpuSecondsOf(pid), 0) - cpuBefore) / ((Date.now() - started) / 1000);
    return { load, resources: { rssPeakBytes, cpuCores, openFilesPeak } };
  } finally {
    clearInterval(sampler);
  }
}

async function step(chats: number, server: StepResult["server"]): Promise<StepResult> {
  const local = server === "service" ? await startService({ runtime: "workerd", vars: SERVICE_VARS }) : await startFloor();
  try {
    console.error(`\n── ${server}: ${chats} chats (${((2 * chats) / rampRate).toFixed(0)} s ramp, ${holdS} s hold)`);
    const result = { chats, server, ...(await measure(local, chats)) };
    console.error(formatSummary(result.load));
    return result;
  } finally {
    await local.stop();
  }
}

/** The step's own promise, minus latency: a slow step is a result, a broken one ends the escalation. */
function sustained(r: StepResult): boolean {
  const c = r.load.counters;
  return r.load.chatsHeld >= 0.99 * r.chats && c.messages_lost === 0 && c.pairing_errors === 0 && (r.load.rates.match_success ?? 0) > 0.99;
}

const f = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? "–" : v < 10 ? v.toFixed(1) : v.toFixed(0));
const ratio = (a: number | undefined, b: number | undefined) => (a && b ? `${(a / b).toFixed(1)}×` : "–");
const mib = (b: number) => `${Math.round(b / 2 ** 20)} MiB`;

function table(results: StepResult[]): string {
  const head =
    "| step (chats) | server | chats held | sockets | match p50 / p99 ms | delivery p50 / p95 / p99 ms | service ÷ floor (p50 / p95 / p99) | match success | lost | pairing errors | server RSS | server CPU (cores) | server open files (peak) | client CPU (max per proc) |";
  const rows = [head, `|${"---|".repeat(14)}`];
  for (const r of results) {
    const d = r.load.trends.delivery_latency;
    const m = r.load.trends.match_time;
    const floor = results.find((o) => o.chats === r.chats && o.server === "floor")?.load.trends.delivery_latency;
    const vsFloor = r.server === "service" ? `${ratio(d?.p50, floor?.p50)} / ${ratio(d?.p95, floor?.p95)} / ${ratio(d?.p99, floor?.p99)}` : "";
    const held = r.load.chatsHeld < r.chats ? `**${r.load.chatsHeld}** of ${r.chats}` : String(r.load.chatsHeld);
    rows.push(
      `| ${r.chats} | ${r.server} | ${held} | ${r.load.socketsPeak} | ${f(m?.p50)} / ${f(m?.p99)} | ${f(d?.p50)} / ${f(d?.p95)} / ${f(d?.p99)} | ${vsFloor} | ${((r.load.rates.match_success ?? 0) * 100).toFixed(1)} % | ${r.load.counters.messages_lost} | ${r.load.counters.pairing_errors} | ${mib(r.resources.rssPeakBytes)} | ${r.resources.cpuCores.toFixed(2)} | ${r.resources.openFilesPeak} | ${Math.max(...r.load.clientCpu).toFixed(2)} |`,
    );
  }
  return rows.join("\n");
}

function machine(): string {
  const model = /model name\s*:\s*(.*)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "unknown CPU";
  const version = (pkg: string) => (JSON.parse(readFileSync(`node_modules/${pkg}/package.json`, "utf8")) as { version: string }).version;
  // Miniflare runs the workerd it ships, which may differ from the top-level one.
  const workerd = version(existsSync("node_modules/miniflare/node_modules/workerd") ? "miniflare/node_modules/workerd" : "workerd");
  return `${cpus().length} × ${model}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, miniflare ${version("miniflare")}, workerd ${workerd}`;
}

// ---------------------------------------------------------------- idle phase

/** The web page's heartbeat: what an idle chat costs is mostly what its pings cost. */
const IDLE_HEARTBEAT_MS = 10_000;
/** Chats settle (late pairings, first pings) before the quiet window is measured. */
const IDLE_SETTLE_MS = 5_000;
type IdleResult = { server: StepResult["server"]; chats: number; chatsHeld: number; cpuCores: number; cpuMsPerChatMinute: number; lost: number; pairingErrors: number };

async function idlePhase(server: StepResult["server"]): Promise<IdleResult> {
  const local = server === "service" ? await startService({ runtime: "workerd", vars: SERVICE_VARS }) : await startFloor();
  try {
    const rampS = (2 * idleChats) / rampRate;
    console.error(`\n── idle phase, ${server}: ${idleChats} chats (${rampS.toFixed(0)} s ramp, ${idleS} s quiet with pings every ${IDLE_HEARTBEAT_MS / 1000} s)`);
    const pids = local.serverPids();
    const cpuNow = () => pids.reduce((sum, pid) => sum + cpuSecondsOf(pid), 0);
    const t0 = Date.now() + 1500;
    const from = t0 + rampS * 1000 + IDLE_SETTLE_MS;
    const to = t0 + (rampS + idleS) * 1000 - 1000;
    const window: { cpu?: number; at?: number; cores?: number } = {};
    const start = setTimeout(() => Object.assign(window, { cpu: cpuNow(), at: Date.now() }), from - Date.now());
    const stop = setTimeout(() => (window.cores = (cpuNow() - window.cpu!) / ((Date.now() - window.at!) / 1000)), to - Date.now());
    let load: LoadSummary;
    try {
      load = await runLoad({ baseUrl: local.baseUrl, chats: idleChats, rampS, quietS: idleS, holdS: 5, rampDownS: 5, heartbeatMs: IDLE_HEARTBEAT_MS, t0 });
    } finally {
      clearTimeout(start);
      clearTimeout(stop);
    }
    console.error(formatSummary(load));
    const cores = window.cores ?? NaN;
    return {
      server,
      chats: idleChats,
      chatsHeld: load.chatsHeld,
      cpuCores: cores,
      // CPU seconds per second spread over the chats held, per minute, in ms.
      cpuMsPerChatMinute: (cores / Math.max(1, load.chatsHeld)) * 60_000,
      lost: load.counters.messages_lost ?? 0,
      pairingErrors: load.counters.pairing_errors ?? 0,
    };
  } finally {
    await local.stop();
  }
}

function idleTable(rows: IdleResult[]): string {
  const floor = rows.find((r) => r.server === "floor");
  const out = [
    "| idle phase | chats held | server CPU while quiet (cores) | CPU per idle chat-minute | ÷ floor | lost | pairing errors |",
    "|---|---|---|---|---|---|---|",
  ];
  for (const r of rows) {
    const vsFloor = r.server === "service" && floor ? ratio(r.cpuMsPerChatMinute, floor.cpuMsPerChatMinute) : "";
    out.push(`| ${r.server} | ${r.chatsHeld} of ${r.chats} | ${r.cpuCores.toFixed(3)} | ${r.cpuMsPerChatMinute.toFixed(2)} ms | ${vsFloor} | ${r.lost} | ${r.pairingErrors} |`);
  }
  return out.join("\n");
}

const results: StepResult[] = [];
let serviceBrokeAt: number | undefined;
for (const chats of steps) {
  if (SERVER_FILES_PER_CHAT * chats > FD_CEILING) {
    console.error(`note: ${chats} chats need about ${SERVER_FILES_PER_CHAT * chats} open files in workerd, above one process's ${FD_CEILING}`);
  }
  if (serviceBrokeAt === undefined) {
    const service = await step(chats, "service");
    results.push(service);
    if (!sustained(service)) serviceBrokeAt = chats;
  } else {
    console.error(`\n── service: ${chats} chats skipped (failed at ${serviceBrokeAt})`);
  }
  results.push(await step(chats, "floor"));
}

const idle: IdleResult[] = idleChats > 0 && idleS > 0 ? [await idlePhase("service"), await idlePhase("floor")] : [];

const output = [results.length ? table(results) : "", idle.length ? idleTable(idle) : ""].filter(Boolean).join("\n\n");
const about = `Machine: ${machine()}. Each step: users arrive at ${rampRate}/s, hold ${holdS} s, one message per user every 5 s. ` +
  "Service: the worker on one workerd process through Miniflare (no wrangler dev proxy), Durable Objects in SQLite on tmpfs, " +
  `vars from wrangler.toml plus ${Object.entries(SERVICE_VARS).map(([k, v]) => `${k}=${v}`).join(", ")} (per-message log line off). ` +
  "Bold chats held: the step did not sustain its target. " +
  (serviceBrokeAt === undefined ? "" : `The service failed at ${serviceBrokeAt} chats and was not run at higher steps. `) +
  `Server open files: the busiest server process at peak; one process may hold ${FD_CEILING}.` +
  (idle.length ? ` Idle phase: ${idleChats} chats arrive at ${rampRate}/s, then ping every ${IDLE_HEARTBEAT_MS / 1000} s and send nothing for ${idleS} s; server CPU is measured over that quiet window minus its first ${IDLE_SETTLE_MS / 1000} s.` : "");
const json = JSON.stringify({ machine: machine(), rampRate, holdS, serviceVars: SERVICE_VARS, serviceBrokeAt, results, idle }, null, 2);
console.log(values.json ? json : `${output}\n\n${about}`);
mkdirSync("bench-results", { recursive: true });
const file = `bench-results/bench-${new Date().toISOString().replace(/[:.]/g, "-")}.json`;
writeFileSync(file, json);
console.error(`\nwrote ${file}`);
