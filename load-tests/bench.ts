/**
 * `npm run bench`: the service beside two references, under the same driver, in one run:
 * - the floor: a bare Node relay (floor/relay.ts), the least any server can cost here;
 * - the reference room: a minimal hibernating relay room on the same runtime, written the way
 *   Cloudflare's workers-chat-demo writes its room (reference/relay-room.ts).
 *
 * 1. Steps: chats at increasing concurrency (users arrive at --ramp-rate, chat at the standard
 *    pace through the hold, leave over 10 s). Delivery is reported for the steady part (every
 *    chat up and talking), while a burst of --step-burst more users is matched in the middle of
 *    the hold (delivery while matching), and for the whole run. The service is not run past a
 *    step it failed (chats not held, anything lost, unanswered or mis-paired).
 * 2. Bursts: --burst users in four queues arriving at each of --burst-rates, with both
 *    matchmaker backends: time to match, users turned away, server CPU, object calls, rows
 *    written and alarms set per matched user.
 * 3. Setup: --setup users set up by --setup-concurrency clients at once (each starts the next
 *    user as soon as one is matched), chatting as soon as they are paired: delivery of the
 *    chats already talking while the rest are matched.
 * 4. The idle phase: chats that only ping (every 10 s, like the page) for a minute: server CPU
 *    per idle chat-minute.
 * 5. Models: the busiest objects' request rates at 10,000 and 100,000 chats (capacity) and the
 *    monthly Cloudflare bill for 10,000 chats (cost), from the service's own operation counts
 *    and the dated price table in cloudflare-prices.json, with the assumptions printed.
 *
 *   npm run bench -- [--steps 1000,2000,2700] [--ramp-rate 25] [--hold 45] [--step-burst 400]
 *                    [--burst 4000] [--burst-rates 200,500] [--setup 4000] [--setup-concurrency 200]
 *                    [--idle-chats 1000] [--idle 60] [--chat-minutes 5] [--json]
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { parseArgs } from "node:util";
import { SHARDS } from "@strangers/protocol";
import { formatSummary, type LoadOptions, type LoadSummary, runLoad } from "./driver/run.ts";
import {
  cpuSecondsOf,
  type LocalServer,
  openFilesOf,
  REFERENCE_CONFIG,
  rssOf,
  startFloor,
  startService,
} from "./local-server.ts";
import {
  type Assumptions,
  type Bill,
  capacity,
  loadPrices,
  type Measured,
  monthlyBill,
  type Operations,
  SOFT_LIMIT_PER_OBJECT,
} from "./models.ts";
import { SEND_EVERY_MS } from "./scenario/metrics.ts";

/** Open files any one process may hold here. */
const FD_CEILING = 20_000;
/** No per-message log line: its cost is the log pipeline's (Workers Logs in production), not the service's. */
const SERVICE_VARS = { MESSAGE_LOG_SAMPLE_RATE: "0" };

const { values } = parseArgs({
  options: {
    steps: { type: "string", default: "1000,2000,2700" },
    // Users arriving per second during a step's ramp; a browser would not arrive faster either.
    "ramp-rate": { type: "string", default: "25" },
    hold: { type: "string", default: "45" },
    // Users matched in the middle of each step's hold, at STEP_BURST_RATE: what matching does to chats already talking.
    "step-burst": { type: "string", default: "400" },
    burst: { type: "string", default: "4000" },
    "burst-rates": { type: "string", default: "200,500" },
    setup: { type: "string", default: "4000" },
    "setup-concurrency": { type: "string", default: "200" },
    "idle-chats": { type: "string", default: "1000" },
    idle: { type: "string", default: "60" },
    "chat-minutes": { type: "string", default: "5" },
    json: { type: "boolean", default: false },
  },
});
const steps = values.steps!.split(",").filter(Boolean).map(Number);
const rampRate = Number(values["ramp-rate"]);
const holdS = Number(values.hold);
const stepBurst = Number(values["step-burst"]);
const burstUsers = Number(values.burst);
const burstRates = values["burst-rates"]!.split(",").filter(Boolean).map(Number);
const setupUsers = Number(values.setup);
const setupConcurrency = Number(values["setup-concurrency"]);
const idleChats = Number(values["idle-chats"]);
const idleS = Number(values.idle);
const assumptions: Assumptions = {
  chatMinutes: Number(values["chat-minutes"]),
  messagesPerChatMinute: 2 * (60_000 / SEND_EVERY_MS),
  busiestLanguageShare: 0.5,
  busiestFeelingShare: 0.3,
  shards: SHARDS,
  // The page's nine languages and "any", and the pool of its one mode.
  lobbies: 11,
  messageLogRate: deployedMessageLogRate(),
};

/** MESSAGE_LOG_SAMPLE_RATE as the production environment in wrangler.toml sets it. */
function deployedMessageLogRate(): number {
  const production = readFileSync("wrangler.toml", "utf8").split("[env.production]")[1] ?? "";
  return Number(/MESSAGE_LOG_SAMPLE_RATE = "([\d.]+)"/.exec(production)?.[1] ?? 1);
}

type Server = "service" | "service (durable-object)" | "reference" | "floor";
type Resources = { rssPeakBytes: number; cpuCores: number; openFilesPeak: number; cpuSeconds: number };
/** `companion`: a second load run beside the main one, on the same server (the burst in a step's hold). */
type Run = {
  server: Server;
  chats: number;
  load: LoadSummary;
  resources: Resources;
  measured: Measured | null;
  companion?: LoadSummary;
  rate?: number;
};
type Cohort = Omit<LoadOptions, "baseUrl" | "t0">;

async function start(server: Server): Promise<LocalServer> {
  if (server === "floor") return startFloor();
  if (server === "reference") return startService({ runtime: "workerd", config: REFERENCE_CONFIG });
  return startService({
    runtime: "workerd",
    vars: { ...SERVICE_VARS, ...(server === "service" ? {} : { MATCHMAKER: "durable-object" }) },
  });
}

const isService = (s: Server) => s.startsWith("service");

async function operations(server: LocalServer): Promise<Operations> {
  try {
    const res = await fetch(`${server.baseUrl}/api/stats?fresh`, { signal: AbortSignal.timeout(10_000) });
    return res.ok ? ((await res.json()) as { operations: Operations }).operations : {};
  } catch {
    return {};
  }
}

/**
 * Runs the driver against a fresh server, sampling its processes. `window` (epoch ms) is where
 * CPU is measured (default: the whole run); `steady` is where operations per message are read;
 * `companion` is a second cohort started beside the first (its t0 from the first's).
 */
/** A second cohort beside the main one, and what it changes about the main one's measurement. */
type Companion = (t0: number) => {
  cohort: Cohort & { t0: number };
  windows: LoadOptions["windows"];
  steadyUntil: number;
};

async function run(
  server: Server,
  o: Cohort,
  window?: (t0: number) => [number, number],
  companion?: Companion,
): Promise<Run> {
  const { chats } = o;
  const local = await start(server);
  try {
    const pids = local.serverPids();
    const cpu = () => pids.reduce((sum, pid) => sum + cpuSecondsOf(pid), 0);
    const t0 = Date.now() + 1500;
    let rssPeakBytes = 0;
    let openFilesPeak = 0;
    const sampler = setInterval(() => {
      rssPeakBytes = Math.max(
        rssPeakBytes,
        pids.reduce((sum, pid) => sum + rssOf(pid), 0),
      );
      openFilesPeak = Math.max(openFilesPeak, ...pids.map(openFilesOf));
    }, 1000);
    const [from, to] = window?.(t0) ?? [t0, Infinity];
    const cpuAt: { from?: number; to?: number; toAt?: number } = {};
    const timers = [setTimeout(() => (cpuAt.from = cpu()), from - Date.now())];
    if (to !== Infinity)
      timers.push(setTimeout(() => Object.assign(cpuAt, { to: cpu(), toAt: Date.now() }), to - Date.now()));
    // Operations per message: read around the steady window, where only messages flow (it ends where a burst beside it begins).
    const beside = companion?.(t0);
    const second = beside?.cohort;
    const steadyFrom = t0 + (o.rampS + (o.quietS ?? 0)) * 1000 + SEND_EVERY_MS + 2000;
    const steadyTo = beside?.steadyUntil ?? t0 + (o.rampS + (o.quietS ?? 0) + o.holdS) * 1000;
    const steadyOps: { from?: Operations; to?: Operations } = {};
    if (isService(server) && steadyTo > steadyFrom) {
      timers.push(setTimeout(async () => (steadyOps.from = await operations(local)), steadyFrom - Date.now()));
      timers.push(setTimeout(async () => (steadyOps.to = await operations(local)), steadyTo - Date.now()));
    }
    console.error(
      `\n── ${server}: ${chats} chats (${o.concurrency ? `${o.concurrency} at a time` : `${o.rampS.toFixed(0)} s ramp`}, ${o.holdS} s hold)${second ? `, ${2 * second.chats} more users matched from +${((second.t0 - t0) / 1000).toFixed(0)} s` : ""}`,
    );
    let load: LoadSummary;
    let companionLoad: LoadSummary | undefined;
    try {
      [load, companionLoad] = await Promise.all([
        runLoad({
          ...o,
          baseUrl: local.baseUrl,
          t0,
          ...(beside ? { windows: { ...o.windows, ...beside.windows }, steadyUntil: beside.steadyUntil } : {}),
        }),
        second ? runLoad({ ...second, baseUrl: local.baseUrl }) : Promise.resolve(undefined),
      ]);
    } finally {
      timers.forEach(clearTimeout);
      clearInterval(sampler);
    }
    const end = cpuAt.to ?? cpu();
    const seconds = ((cpuAt.toAt ?? Date.now()) - from) / 1000;
    // A server process that died during the run took its CPU count with it: no figure, rather than a wrong one.
    const died = pids.filter((pid) => !existsSync(`/proc/${pid}`));
    if (died.length) console.error(`server process ${died.join(", ")} died during the run`);
    const cpuSeconds = died.length ? NaN : end - (cpuAt.from ?? 0);
    const resources = { rssPeakBytes, openFilesPeak, cpuSeconds, cpuCores: cpuSeconds / seconds };
    console.error(formatSummary(load));
    if (companionLoad) console.error(`── the burst beside it:\n${formatSummary(companionLoad)}`);
    let measured: Measured | null = null;
    if (isService(server)) {
      const total = await operations(local);
      const steadyMessages = load.trends.steady_delivery_latency?.count ?? 0;
      const perMessage =
        steadyOps.from && steadyOps.to && steadyMessages
          ? Object.fromEntries(
              Object.entries(steadyOps.to).map(([k, v]) => [k, (v - (steadyOps.from![k] ?? 0)) / steadyMessages]),
            )
          : null;
      const users = (load.trends.match_time?.count ?? 0) + (companionLoad?.trends.match_time?.count ?? 0);
      measured = {
        users,
        messages: load.counters.messages_delivered ?? 0,
        operations: total,
        perMessage,
        cpuMsPerUser: 0,
      };
    }
    return { server, chats, load, resources, measured, ...(companionLoad ? { companion: companionLoad } : {}) };
  } finally {
    await local.stop();
  }
}

// ---------------------------------------------------------------- the runs

/**
 * Arrivals of the burst in a step's hold, late in the hold: the steady window ends where it
 * begins, and every chat goes on talking for STEP_BURST_TAIL_S after its first arrival.
 */
const STEP_BURST_RATE = 200;
const STEP_BURST_TAIL_S = 10;
/** Open files: a step near the ceiling leaves room for fewer burst users (their sockets and rooms are held while they match). */
const CHATS_CEILING = 2_850;
const stepBurstFor = (chats: number) => Math.max(0, Math.min(stepBurst, 2 * (CHATS_CEILING - chats - 50)));

const stepRuns: Run[] = [];
let serviceBrokeAt: number | undefined;
for (const chats of steps) {
  const o: Cohort = { chats, rampS: (2 * chats) / rampRate, holdS, rampDownS: 10 };
  const burst = stepBurstFor(chats);
  const burstAt = (t0: number) => t0 + (o.rampS + holdS - STEP_BURST_TAIL_S) * 1000;
  const burstS = burst / STEP_BURST_RATE;
  // The main cohort's messages sent while the burst arrives and is matched (and two seconds after).
  const companion: Companion | undefined = burst
    ? (t0) => ({
        cohort: { chats: burst / 2, rampS: burstS, holdS: 2, rampDownS: 1, t0: burstAt(t0) },
        windows: { matching: [burstAt(t0), burstAt(t0) + (burstS + 2) * 1000] },
        steadyUntil: burstAt(t0),
      })
    : undefined;
  for (const server of ["service", "reference", "floor"] as const) {
    if (server === "service" && serviceBrokeAt !== undefined) {
      console.error(`\n── service: ${chats} chats skipped (failed at ${serviceBrokeAt})`);
      continue;
    }
    const r = await run(server, o, undefined, companion);
    stepRuns.push(r);
    if (server === "service" && !sustained(r)) serviceBrokeAt = chats;
  }
}

const BURST_QUIET_S = 30;
const burstRuns: Run[] = [];
for (const rate of burstUsers > 0 ? burstRates : []) {
  const rampS = burstUsers / rate;
  // Matching only: chats stay quiet after it (pings are answered by the runtime), CPU is measured until just before they talk.
  const o: Cohort = {
    chats: Math.floor(burstUsers / 2),
    rampS,
    quietS: BURST_QUIET_S,
    holdS: 2,
    rampDownS: 5,
    matchTimeoutMs: 60_000,
  };
  for (const server of ["service", "service (durable-object)", "reference", "floor"] as const) {
    const r = await run(server, o, (t0) => [t0, t0 + (rampS + BURST_QUIET_S - 1) * 1000]);
    const matched = r.load.trends.match_time?.count ?? 0;
    if (r.measured) r.measured.cpuMsPerUser = (r.resources.cpuSeconds * 1000) / Math.max(1, matched);
    burstRuns.push({ ...r, rate });
  }
}

/** How long the setup's users chat before leaving; long enough that every chat talks while the last users are matched. */
const SETUP_BUDGET_S = 20;
const setupRuns: Run[] = [];
if (setupUsers > 0) {
  const o: Cohort = {
    chats: Math.floor(setupUsers / 2),
    rampS: SETUP_BUDGET_S,
    holdS: 10,
    rampDownS: 5,
    concurrency: setupConcurrency,
    matchTimeoutMs: 60_000,
    windows: { matching: "matching" },
  };
  for (const server of ["service", "service (durable-object)", "reference", "floor"] as const)
    setupRuns.push(await run(server, o));
}

const IDLE_HEARTBEAT_MS = 10_000;
/** Chats settle (late pairings, first pings) before the quiet window is measured. */
const IDLE_SETTLE_MS = 5_000;
const idleRuns: Run[] = [];
if (idleChats > 0 && idleS > 0) {
  const rampS = (2 * idleChats) / rampRate;
  const o: Cohort = { chats: idleChats, rampS, quietS: idleS, holdS: 5, rampDownS: 5, heartbeatMs: IDLE_HEARTBEAT_MS };
  for (const server of ["service", "reference", "floor"] as const) {
    idleRuns.push(
      await run(server, o, (t0) => [t0 + rampS * 1000 + IDLE_SETTLE_MS, t0 + (rampS + idleS) * 1000 - 1000]),
    );
  }
}

// ---------------------------------------------------------------- tables

/** A step's own promise, minus latency: a slow step is a result, a broken one ends the escalation. */
function sustained(r: Run): boolean {
  const c = r.load.counters;
  const beside = r.companion?.counters;
  const clean = (k: "messages_lost" | "messages_unanswered" | "pairing_errors") =>
    (c[k] ?? 0) + (beside?.[k] ?? 0) === 0;
  return (
    r.load.chatsHeld >= 0.99 * r.chats &&
    clean("messages_lost") &&
    clean("messages_unanswered") &&
    clean("pairing_errors") &&
    (r.load.rates.match_success ?? 0) > 0.99
  );
}

const f = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? "–" : v < 10 ? v.toFixed(1) : v.toFixed(0));
const f2 = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? "–" : v < 1 ? v.toFixed(2) : f(v));
const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b ? `${(a / b).toFixed(1)}×` : "–");
const mib = (b: number) => `${Math.round(b / 2 ** 20)} MiB`;
const money = (d: number) => `$${d < 10 ? d.toFixed(2) : Math.round(d).toLocaleString("en-US")}`;
const big = (n: number) =>
  n >= 1e9
    ? `${(n / 1e9).toFixed(2)} B`
    : n >= 1e6
      ? `${(n / 1e6).toFixed(1)} M`
      : n >= 1e3
        ? `${(n / 1e3).toFixed(1)} k`
        : n.toFixed(0);

/** Which of this machine's limits a run came closest to: open files per process, memory, or the one thread's CPU. */
function limitOf(r: Run): string {
  const usage = [
    { what: "open files", share: r.resources.openFilesPeak / FD_CEILING },
    { what: "memory", share: r.resources.rssPeakBytes / totalmem() },
    { what: "CPU (one thread)", share: r.resources.cpuCores },
  ].sort((a, b) => b.share - a.share);
  return `${usage[0].what} ${(usage[0].share * 100).toFixed(0)} %`;
}

function stepTable(runs: Run[]): string {
  const rows = [
    "| chats | server | held | match p50 / p99 ms | steady delivery p50 / p95 / p99 ms | ÷ floor (p99) | ÷ reference (p99) | delivery while a burst is matched p50 / p99 ms (burst users) | ÷ floor (p99) | burst match p50 / p99 ms | whole run p99 ms | lost | pairing errors | RSS | CPU (cores) | open files (peak) | closest limit |",
    `|${"---|".repeat(17)}`,
  ];
  for (const r of runs) {
    const d = r.load.trends.steady_delivery_latency;
    const peer = (s: Server) => runs.find((o) => o.chats === r.chats && o.server === s);
    const m = r.load.trends.match_time;
    const w = r.load.windows.matching;
    const bm = r.companion?.trends.match_time;
    const held = r.load.chatsHeld < r.chats ? `**${r.load.chatsHeld}**` : String(r.load.chatsHeld);
    const lost = (r.load.counters.messages_lost ?? 0) + (r.companion?.counters.messages_lost ?? 0);
    const errors = (r.load.counters.pairing_errors ?? 0) + (r.companion?.counters.pairing_errors ?? 0);
    rows.push(
      `| ${r.chats} | ${r.server} | ${held} | ${f(m?.p50)} / ${f(m?.p99)} | ${f2(d?.p50)} / ${f2(d?.p95)} / ${f2(d?.p99)} | ${r.server === "floor" ? "" : ratio(d?.p99, peer("floor")?.load.trends.steady_delivery_latency?.p99)} | ` +
        `${r.server === "service" ? ratio(d?.p99, peer("reference")?.load.trends.steady_delivery_latency?.p99) : ""} | ` +
        `${w ? `${f2(w.p50)} / ${f2(w.p99)} (${r.companion?.users ?? 0})` : "–"} | ${r.server === "floor" ? "" : ratio(w?.p99, peer("floor")?.load.windows.matching?.p99)} | ${f(bm?.p50)} / ${f(bm?.p99)} | ` +
        `${f(r.load.trends.delivery_latency?.p99)} | ${lost} | ${errors} | ` +
        `${mib(r.resources.rssPeakBytes)} | ${r.resources.cpuCores.toFixed(2)} | ${r.resources.openFilesPeak} | ${limitOf(r)} |`,
    );
  }
  return rows.join("\n");
}

/** Per matched user, from the service's own counts (a fresh server per run): Durable Object calls, rows written, alarms set. */
function perMatched(r: Run): { calls: number; rows: number; alarms: number } | null {
  const ops = r.measured?.operations;
  const matched = r.load.trends.match_time?.count ?? 0;
  if (!ops || !matched) return null;
  const calls = Object.entries(ops).reduce(
    (sum, [k, n]) => sum + (k.startsWith("call.") && !k.endsWith(".busiest") ? n : 0),
    0,
  );
  return {
    calls: calls / matched,
    rows: (ops["rows.written"] ?? 0) / matched,
    alarms: (ops["alarms.set"] ?? 0) / matched,
  };
}

function burstTable(runs: Run[]): string {
  const rows = [
    "| server | users | arriving | matched | turned away (busy) | match p50 / p95 / p99 ms | server CPU per matched user | ÷ reference | CPU (cores) | object calls / rows written / alarms set per matched user |",
    `|${"---|".repeat(10)}`,
  ];
  const perUser = (r: Run) => (r.resources.cpuSeconds * 1000) / Math.max(1, r.load.trends.match_time?.count ?? 0);
  for (const r of runs) {
    const m = r.load.trends.match_time;
    const reference = runs.find((o) => o.rate === r.rate && o.server === "reference");
    const o = perMatched(r);
    rows.push(
      `| ${r.server} | ${r.load.users} | ${r.rate}/s | ${m?.count ?? 0} | ${r.load.counters.match_busy ?? 0} | ${f(m?.p50)} / ${f(m?.p95)} / ${f(m?.p99)} | ` +
        `${Number.isNaN(perUser(r)) ? "server died" : `${perUser(r).toFixed(2)} ms`} | ${isService(r.server) && reference ? ratio(perUser(r), perUser(reference)) : ""} | ${r.resources.cpuCores.toFixed(2)} | ` +
        `${o ? `${o.calls.toFixed(2)} / ${o.rows.toFixed(2)} / ${o.alarms.toFixed(2)}` : ""} |`,
    );
  }
  return rows.join("\n");
}

function setupTable(runs: Run[]): string {
  const rows = [
    "| server | users | clients at once | matched | match p50 / p95 / p99 ms | setup took | delivery while matching p50 / p95 / p99 ms | ÷ floor (p99) | lost | unanswered | pairing errors | busy |",
    `|${"---|".repeat(12)}`,
  ];
  const floor = runs.find((r) => r.server === "floor");
  for (const r of runs) {
    const m = r.load.trends.match_time;
    const w = r.load.windows.matching;
    const took = r.load.lastMatchedAt ? `${((r.load.lastMatchedAt - r.load.t0) / 1000).toFixed(1)} s` : "–";
    rows.push(
      `| ${r.server} | ${r.load.users} | ${setupConcurrency} | ${m?.count ?? 0} | ${f(m?.p50)} / ${f(m?.p95)} / ${f(m?.p99)} | ${took} | ${f2(w?.p50)} / ${f2(w?.p95)} / ${f2(w?.p99)} (n=${w?.count ?? 0}) | ` +
        `${r.server === "floor" ? "" : ratio(w?.p99, floor?.load.windows.matching?.p99)} | ${r.load.counters.messages_lost} | ${r.load.counters.messages_unanswered ?? 0} | ${r.load.counters.pairing_errors} | ${r.load.counters.match_busy ?? 0} |`,
    );
  }
  return rows.join("\n");
}

/** Every run's messages: sent, acknowledged by the server (the sender's copy came back), delivered to the partner (and of those, 3 s or more after sending), refused (by code), neither (unanswered), and lost. */
function messageTable(all: { phase: string; r: Run }[]): string {
  const rows = [
    "| run | server | sent | acknowledged | delivered | of which ≥ 3 s late | refused (by code) | unanswered | lost |",
    `|${"---|".repeat(9)}`,
  ];
  for (const { phase, r } of all) {
    for (const [label, l] of [
      [phase, r.load],
      ...(r.companion ? [[`${phase}, the burst beside it`, r.companion] as const] : []),
    ] as const) {
      const c = l.counters;
      const refused =
        Object.entries(l.refusals)
          .map(([k, n]) => `${k}: ${n}`)
          .join(", ") || "0";
      rows.push(
        `| ${label} | ${r.server} | ${c.messages_sent ?? 0} | ${c.messages_acked ?? 0} | ${c.messages_delivered ?? 0} | ${c.messages_late ?? 0} | ${refused} | ${c.messages_unanswered ?? 0} | ${c.messages_lost ?? 0} |`,
      );
    }
  }
  return rows.join("\n");
}

function idleTable(runs: Run[]): string {
  const perChatMinute = (r: Run) => (r.resources.cpuCores / Math.max(1, r.load.chatsHeld)) * 60_000;
  const floor = runs.find((r) => r.server === "floor");
  const rows = [
    "| idle phase | chats held | server CPU while quiet (cores) | CPU per idle chat-minute | ÷ floor | lost | pairing errors |",
    "|---|---|---|---|---|---|---|",
  ];
  for (const r of runs) {
    rows.push(
      `| ${r.server} | ${r.load.chatsHeld} of ${r.chats} | ${r.resources.cpuCores.toFixed(3)} | ${perChatMinute(r).toFixed(2)} ms | ${r.server !== "floor" && floor ? ratio(perChatMinute(r), perChatMinute(floor)) : ""} | ${r.load.counters.messages_lost} | ${r.load.counters.pairing_errors} |`,
    );
  }
  return rows.join("\n");
}

function capacityTable(m: Measured): string {
  const rows = [
    "| object | calls per arriving user | busiest object's share | req/s per 1,000 chats | req/s per arriving user/s | at 10,000 chats | at 100,000 chats | under 1,000/s at 100,000? |",
    "|---|---|---|---|---|---|---|---|",
  ];
  for (const r of capacity(m, assumptions)) {
    const share = r.busiestShare ? `${(r.busiestShare * 100).toFixed(1)} %` : "–";
    rows.push(
      `| ${r.object} | ${r.perUser ? r.perUser.toFixed(2) : "–"} | ${share} | ${r.per1000Chats.toFixed(2)} | ${r.perArrivalPerS ? r.perArrivalPerS.toFixed(3) : "–"} | ${r.at10k.toFixed(1)} | ${r.at100k.toFixed(0)} | ${r.at100k < SOFT_LIMIT_PER_OBJECT ? "yes" : "**no**"} |`,
    );
  }
  return rows.join("\n");
}

function costTable(bills: Bill[]): string {
  const prices = loadPrices();
  const items = bills[0].lines.map((l) => l.item);
  const rows = [
    `| item (${prices.plan.name}, prices of ${prices.asOf}) | ${bills.map((b) => b.scenario).join(" | ")} |`,
    `|---|${bills.map(() => "---|").join("")}`,
  ];
  for (const item of items) {
    const cells = bills.map((b) => {
      const l = b.lines.find((x) => x.item === item)!;
      return `${big(l.usage)} → ${money(l.dollars)}`;
    });
    rows.push(`| ${prices.items[item].unit} | ${cells.join(" | ")} |`);
  }
  rows.push(`| **total per month** (plan included) | ${bills.map((b) => `**${money(b.total)}**`).join(" | ")} |`);
  return rows.join("\n");
}

function machine(): string {
  const model = /model name\s*:\s*(.*)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "unknown CPU";
  const version = (pkg: string) =>
    (JSON.parse(readFileSync(`node_modules/${pkg}/package.json`, "utf8")) as { version: string }).version;
  // Miniflare runs the workerd it ships, which may differ from the top-level one.
  const workerd = version(
    existsSync("node_modules/miniflare/node_modules/workerd") ? "miniflare/node_modules/workerd" : "workerd",
  );
  return `${cpus().length} × ${model}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, miniflare ${version("miniflare")}, workerd ${workerd}`;
}

// ---------------------------------------------------------------- output

const sections: string[] = [];
if (stepRuns.length) sections.push(stepTable(stepRuns));
if (burstRuns.length) sections.push(burstTable(burstRuns));
if (setupRuns.length) sections.push(setupTable(setupRuns));
if (idleRuns.length) sections.push(idleTable(idleRuns));
sections.push(
  messageTable([
    ...stepRuns.map((r) => ({ phase: `${r.chats} chats`, r })),
    ...burstRuns.map((r) => ({ phase: `burst at ${r.rate}/s`, r })),
    ...setupRuns.map((r) => ({ phase: "setup", r })),
    ...idleRuns.map((r) => ({ phase: "idle", r })),
  ]),
);

// The models use the busiest step the service sustained (messages and matching alike), the burst's CPU per user, and its queue-object counts.
const serviceSteps = stepRuns.filter((r) => r.server === "service" && sustained(r) && r.measured?.perMessage);
const basis = serviceSteps.at(-1)?.measured ?? null;
// The fastest burst: the one that tests the design hardest.
const topRate = Math.max(...burstRates);
const burstKv = burstRuns.find((r) => r.server === "service" && r.rate === topRate)?.measured;
let models: unknown = null;
if (basis) {
  basis.cpuMsPerUser = burstKv?.cpuMsPerUser ?? 0;
  const prices = loadPrices();
  const bills = [
    monthlyBill(basis, 10_000, assumptions, prices, "standard", true),
    monthlyBill(basis, 10_000, assumptions, prices, "quiet", true),
    monthlyBill(basis, 10_000, assumptions, prices, "quiet", false),
  ];
  sections.push(capacityTable(basis), costTable(bills));
  models = { capacity: capacity(basis, assumptions), bills, prices: { asOf: prices.asOf, sources: prices.sources } };
}

const about = [
  `Machine: ${machine()}.`,
  `Steps: users arrive at ${rampRate}/s, chat at one message per user every ${SEND_EVERY_MS / 1000} s through a ${holdS} s hold, leave over 10 s; "steady" counts messages sent once every chat was up and talking until ` +
    `${STEP_BURST_TAIL_S} s before the hold ended, when up to ${stepBurst} more users arrive at ${STEP_BURST_RATE}/s, are matched, chat briefly and leave ("delivery while a burst is matched": the first users' messages sent from the burst's first arrival until 2 s after its last).`,
  `Service and reference: one workerd process through Miniflare (no wrangler dev proxy), Durable Objects in SQLite on tmpfs; the service with wrangler.toml's vars plus ${Object.entries(
    SERVICE_VARS,
  )
    .map(([k, v]) => `${k}=${v}`)
    .join(", ")}.`,
  serviceBrokeAt === undefined ? "" : `The service failed at ${serviceBrokeAt} chats and was not run at higher steps.`,
  `Bold "held": the step did not hold its chats. Open files: the busiest server process at peak; one process may hold ${FD_CEILING}.`,
  burstRuns.length
    ? `Bursts: ${burstUsers} users in four queues at ${burstRates.join(" and ")}/s; CPU measured from the first arrival to ${BURST_QUIET_S} s after the last (chats stay quiet meanwhile); calls, rows and alarms are the service's own counts for the whole run.`
    : "",
  setupRuns.length
    ? `Setup: ${setupUsers} users in four queues, ${setupConcurrency} clients at once (the next user starts when one is matched), chatting from their pairing; "delivery while matching" counts messages sent until the last user was matched.`
    : "",
  idleRuns.length
    ? `Idle: ${idleChats} chats ping every ${IDLE_HEARTBEAT_MS / 1000} s and send nothing for ${idleS} s; CPU over that window minus its first ${IDLE_SETTLE_MS / 1000} s.`
    : "",
  basis
    ? `Models: operations per pairing and per message from the service's ${serviceSteps.at(-1)!.chats}-chat step, CPU per user from the burst; average chat ${assumptions.chatMinutes} min, ` +
      `${assumptions.messagesPerChatMinute} messages per chat-minute, the busiest language ${assumptions.busiestLanguageShare * 100} % of arrivals (its busiest feeling ${assumptions.busiestFeelingShare * 100} % of those), every shard and ${assumptions.lobbies} lobbies always awake, ${assumptions.messageLogRate} of messages logged (production's MESSAGE_LOG_SAMPLE_RATE), ` +
      "a room awake from pairing to 10 s after its last event, WebSocket pings answered by the runtime (not billed), Worker CPU priced at the local figure (an upper bound)."
    : "",
]
  .filter(Boolean)
  .join(" ");
const json = JSON.stringify(
  {
    machine: machine(),
    rampRate,
    holdS,
    stepBurst,
    burstUsers,
    burstRates,
    setupUsers,
    setupConcurrency,
    assumptions,
    serviceBrokeAt,
    steps: stepRuns,
    burst: burstRuns,
    setup: setupRuns,
    idle: idleRuns,
    models,
  },
  null,
  2,
);
console.log(values.json ? json : `${sections.join("\n\n")}\n\n${about}`);
mkdirSync("bench-results", { recursive: true });
const file = `bench-results/bench-${new Date().toISOString().replace(/[:.]/g, "-")}.json`;
writeFileSync(file, json);
console.error(`\nwrote ${file}`);
