/**
 * `npm run profile`: where the service's CPU goes, for one phase of the `chats` scenario.
 * Starts the service on one workerd process with its V8 inspector open, runs the load
 * driver, and over the chosen phase records both the server's CPU (from /proc: everything
 * workerd does, SQLite and sockets included) and a V8 CPU profile of the worker's isolate
 * (our JavaScript and the libraries', by source module and by function).
 *
 *   npm run profile -- [--phase match|chat] [--chats 500] [--rate 100] [--seconds 20] [--top 25] [--reference] [--vars K=V,…]
 *
 * match: users arrive at --rate per second and pair up; chats stay quiet meanwhile, so the
 *        window holds matching only. Reports CPU per matched user.
 * chat:  the chats are set up first and talk once (not profiled: rooms that slept through
 *        the ramp wake then), then chat at the standard pace for --seconds. Reports CPU per
 *        relayed message.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { type LoadSummary, runLoad } from "./driver/run.ts";
import { cpuSecondsOf, freePort, REFERENCE_CONFIG, SERVICE_CONFIG, startService } from "./local-server.ts";
import { SEND_EVERY_MS } from "./scenario/metrics.ts";

const { values } = parseArgs({
  allowNegative: true,
  options: {
    phase: { type: "string", default: "match" },
    chats: { type: "string", default: "500" },
    rate: { type: "string", default: "100" },
    seconds: { type: "string", default: "20" },
    top: { type: "string", default: "25" },
    vars: { type: "string", default: "" },
    // The bench's reference room instead of the service: the same job at the runtime's own cost.
    reference: { type: "boolean", default: false },
    // --no-profile: the CPU figures only (the sampling profiler costs CPU of its own).
    profile: { type: "boolean", default: true },
  },
});
const phase = values.phase === "chat" ? "chat" : "match";
const chats = Number(values.chats);
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const top = Number(values.top);
const rampS = (2 * chats) / rate;
/** Late pairings (two users who queued at once meet on the next search) finish inside this. */
const SETTLE_S = 4;
/** chat: every room has spoken once (one sending period and slack) before the window opens. */
const WAKE_S = SEND_EVERY_MS / 1000 + 2;
const extraVars = Object.fromEntries(
  values
    .vars!.split(",")
    .filter(Boolean)
    .map((kv) => kv.split("=") as [string, string]),
);

type Operations = { [operation: string]: number };

/** The service's operation counts (one local runtime: all of them), uncached. */
async function operations(baseUrl: string): Promise<Operations> {
  const res = await fetch(`${baseUrl}/api/stats?fresh`);
  return res.ok ? ((await res.json()) as { operations: Operations }).operations : {};
}

type CallFrame = { functionName: string; url: string; lineNumber: number; columnNumber: number };
type ProfileNode = { id: number; callFrame: CallFrame; children?: number[] };
type Profile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };

/** A minimal Chrome DevTools Protocol client: numbered requests, answers by id. */
async function inspect(port: number): Promise<(method: string, params?: object) => Promise<unknown>> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as {
    id: string;
    webSocketDebuggerUrl: string;
  }[];
  // The user worker, not Miniflare's own helper workers.
  const target = targets.find((t) => t.id.includes("core:user:")) ?? targets[0];
  const ws = new WebSocket(target.webSocketDebuggerUrl, { perMessageDeflate: false });
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  let next = 0;
  const pending = new Map<number, (result: unknown) => void>();
  ws.on("message", (data) => {
    const m = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { message: string } };
    if (m.id === undefined) return;
    if (m.error) throw new Error(m.error.message);
    pending.get(m.id)?.(m.result);
    pending.delete(m.id);
  });
  return (method, params = {}) =>
    new Promise((resolve) => {
      const id = ++next;
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
}

/** Our own modules, as moduleMap names them. */
const OURS = /^(worker|packages)\//;

/** The bundle's `// worker/…/x.ts` and `// packages/…/x.ts` comments: which source module each line of it came from. */
function moduleMap(bundle: string): (line: number) => string {
  const starts: { line: number; module: string }[] = [];
  bundle.split("\n").forEach((text, line) => {
    // The snapshot's paths: `// ../../dev/shm/…/app/worker/matching/lobby.ts`, `// ../../work/…/packages/protocol/src/schemas.ts`, `// ../../work/…/node_modules/zod/v4/…`.
    const m =
      /^\/\/ \S*?((?:worker\/[\w/-]+\.ts)|(?:packages\/[\w-]+\/src\/[\w/-]+\.ts)|node_modules\/(?:@[^/]+\/)?[^/]+)(?:\/\S*)?$/.exec(
        text,
      );
    if (m) starts.push({ line, module: m[1].replace(/^node_modules\//, "") });
  });
  return (line) => {
    let found = "(bundle prelude)";
    for (const s of starts) {
      if (s.line > line) break;
      found = s.module;
    }
    return found;
  };
}

/**
 * Self time by module and by function, and inclusive time of the service's own functions
 * (worker/…): what a step of the match or of a message costs with everything it calls.
 * Samples are taken on the isolate's thread whatever it is doing, so a native call that
 * blocks (SQLite) counts where JavaScript called it; /proc's CPU figure is the true total.
 */
function times(profile: Profile, moduleOf: (line: number) => string) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // "(idle)": the isolate had nothing to run; "(program)": workerd itself (C++), outside any script; native builtins have no url.
  const moduleOfNode = (f: CallFrame) =>
    f.url ? moduleOf(f.lineNumber) : f.functionName ? `native: ${f.functionName}` : "native: (unnamed)";
  const nameOf = (f: CallFrame) =>
    f.url ? `${f.functionName || "(anonymous)"} (${moduleOf(f.lineNumber)}:${f.lineNumber + 1})` : moduleOfNode(f);
  const byModule = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, us: number) => m.set(k, (m.get(k) ?? 0) + us);
  let total = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    total += us;
    const f = byId.get(id)!.callFrame;
    add(
      byModule,
      ["(idle)", "(program)", "(garbage collector)"].includes(f.functionName) && !f.url
        ? f.functionName
        : moduleOfNode(f),
      us,
    );
    add(byFunction, nameOf(f), us);
    const onStack = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const frame = byId.get(n)!.callFrame;
      if (frame.url && OURS.test(moduleOf(frame.lineNumber))) onStack.add(nameOf(frame));
    }
    for (const name of onStack) add(inclusive, name, us);
  });
  return { total, byModule, byFunction, inclusive };
}

function print(title: string, rows: Map<string, number>, total: number, busy: number): void {
  console.log(`\n${title}\n| where | ms | % of profile | % of busy |\n|---|---|---|---|`);
  for (const [name, us] of [...rows].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    const busyShare = name === "(idle)" ? "" : `${((us / busy) * 100).toFixed(1)} %`;
    console.log(`| ${name} | ${(us / 1000).toFixed(0)} | ${((us / total) * 100).toFixed(1)} % | ${busyShare} |`);
  }
}

const inspectorPort = await freePort();
const service = await startService({
  runtime: "workerd",
  inspectorPort,
  config: values.reference ? REFERENCE_CONFIG : SERVICE_CONFIG,
  vars: values.reference ? extraVars : { MESSAGE_LOG_SAMPLE_RATE: "0", ...extraVars },
});
try {
  const bundle = readFileSync(service.bundle!, "utf8");
  const send = values.profile
    ? await inspect(inspectorPort)
    : async () => ({ profile: { nodes: [], samples: [], timeDeltas: [], startTime: 0, endTime: 0 } });
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 200 });
  const pids = service.serverPids();
  const cpu = () => pids.reduce((sum, pid) => sum + cpuSecondsOf(pid), 0);

  const t0 = Date.now() + 1500;
  // match: the window is the ramp plus settling, with chats quiet until well after it.
  // chat: the ramp is not profiled; the window is `seconds` of chatting after it.
  // chat: the first exchange (rooms that slept through the ramp wake) is left out, like the bench's steady window.
  const windowFrom = phase === "match" ? t0 : t0 + (rampS + SETTLE_S + WAKE_S) * 1000;
  const windowS = phase === "match" ? rampS + SETTLE_S : seconds;
  const quietS = phase === "match" ? SETTLE_S + 6 : SETTLE_S;
  const holdS = phase === "match" ? 2 : WAKE_S + seconds + 2;
  let cpuAtStart = 0;
  let cpuSeconds = 0;
  let profile: Profile | null = null;
  let opsAtStart: Operations = {};
  let ops: Operations = {};
  const start = setTimeout(async () => {
    cpuAtStart = cpu();
    opsAtStart = await operations(service.baseUrl);
    await send("Profiler.start");
  }, windowFrom - Date.now());
  const stop = setTimeout(
    async () => {
      cpuSeconds = cpu() - cpuAtStart;
      profile = ((await send("Profiler.stop")) as { profile: Profile }).profile;
      const end = await operations(service.baseUrl);
      ops = Object.fromEntries(Object.entries(end).map(([k, v]) => [k, v - (opsAtStart[k] ?? 0)]));
    },
    windowFrom + windowS * 1000 - Date.now(),
  );

  let load: LoadSummary;
  try {
    load = await runLoad({ baseUrl: service.baseUrl, chats, rampS, quietS, holdS, rampDownS: 2, t0 });
  } finally {
    clearTimeout(start);
    clearTimeout(stop);
  }
  while (!profile) await new Promise((r) => setTimeout(r, 100));

  const matched = load.trends.match_time?.count ?? 0;
  const delivered = load.counters.messages_delivered ?? 0;
  const sendRate = (2 * chats) / (SEND_EVERY_MS / 1000);
  const { total, byModule, byFunction, inclusive } = times(profile, moduleMap(bundle));
  const idle = byModule.get("(idle)") ?? 0;
  const busy = total - idle;
  console.log(
    `## ${phase === "match" ? "Matching" : "Chatting"}: ${chats} chats, ${phase === "match" ? `${rate} users/s arriving` : `${sendRate} messages/s`}`,
  );
  console.log(
    `window ${windowS.toFixed(1)} s; server CPU ${cpuSeconds.toFixed(2)} s (${(cpuSeconds / windowS).toFixed(2)} cores); isolate busy ${(busy / 1e6).toFixed(2)} s of the profile`,
  );
  if (phase === "match") {
    const m = load.trends.match_time;
    console.log(
      `matched ${matched} users (p50 ${m?.p50.toFixed(0)} ms, p99 ${m?.p99.toFixed(0)} ms): ${((cpuSeconds * 1000) / Math.max(1, matched)).toFixed(2)} ms of server CPU per matched user`,
    );
  } else {
    const inWindow = sendRate * windowS;
    const d = load.trends.delivery_latency;
    console.log(
      `about ${inWindow.toFixed(0)} messages in the window (${delivered} delivered over the run): ${((cpuSeconds * 1000) / inWindow).toFixed(3)} ms of server CPU per message`,
    );
    const steady = load.trends.steady_delivery_latency;
    console.log(
      `delivery over the run: p50 ${d?.p50.toFixed(2)} / p95 ${d?.p95.toFixed(2)} / p99 ${d?.p99.toFixed(2)} ms; steady: p50 ${steady?.p50.toFixed(2)} / p95 ${steady?.p95.toFixed(2)} / p99 ${steady?.p99.toFixed(2)} ms`,
    );
  }
  console.log(
    `lost ${load.counters.messages_lost}, pairing errors ${load.counters.pairing_errors}, match success ${((load.rates.match_success ?? 0) * 100).toFixed(1)} %`,
  );
  if (!values.reference) {
    const per = phase === "match" ? Math.max(1, matched) : sendRate * windowS;
    const shown = Object.entries(ops)
      .filter(([k, v]) => v > 0 && !k.endsWith(".busiest"))
      .sort(([a], [b]) => a.localeCompare(b));
    console.log(
      `operations per ${phase === "match" ? "matched user" : "message"}: ${shown.map(([k, v]) => `${k} ${(v / per).toFixed(2)}`).join(", ")}`,
    );
  }
  if (values.profile) {
    print("By source module (self time)", byModule, total, busy);
    print("By function (self time)", byFunction, total, busy);
    print("The service's own functions, with everything they call (inclusive)", inclusive, total, busy);
  }
} finally {
  await service.stop();
}
