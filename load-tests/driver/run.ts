/**
 * The Node load driver: the k6 `chats` scenario for machines without k6. It forks
 * driver processes (each below the 20,000 open-file ceiling), merges what they measured
 * and evaluates the same thresholds as the k6 script.
 *
 *   npm run load -- --base-url http://localhost:8787 --chats 1000 --ramp 30 --hold 60 [--json]
 *   npm run load -- --serve --chats 2000 --concurrency 200 --hold 30 --heartbeat 10000   (starts one workerd itself)
 */
import { fork } from "node:child_process";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { startService } from "../local-server.ts";
import { METRICS, type MetricName, SEND_EVERY_MS, THRESHOLDS } from "../scenario/metrics.ts";
import { Histogram } from "./histogram.ts";
import type { WorkerConfig, WorkerReport } from "./worker.ts";

export type LoadOptions = {
  baseUrl: string;
  chats: number;
  rampS: number;
  holdS: number;
  rampDownS: number;
  /** Driver processes; by default enough to keep each under `socketsPerProc`. */
  procs?: number;
  socketsPerProc?: number;
  sendEveryMs?: number;
  matchTimeoutMs?: number;
  pollEveryMs?: number;
  /** After the ramp, chats stay quiet (pings only) this long before the hold: the idle phase. */
  quietS?: number;
  heartbeatMs?: number;
  /** Epoch ms when the ramp starts; by default 1.5 s from now. Lets a caller time its own samples. */
  t0?: number;
  /** Arrivals limited to this many users matching at once (over all processes) instead of the ramp's schedule. */
  concurrency?: number;
  /**
   * Delivery latency of messages sent within these windows (epoch ms), besides the whole run:
   * `"matching"` is from t0 until the last user was matched (while arrivals were still being paired).
   */
  windows?: Record<string, [number, number] | "matching">;
  /** Epoch ms: the steady window ends here instead of at the end of the hold. */
  steadyUntil?: number;
};

type Percentiles = { count: number; avg: number; p50: number; p95: number; p99: number; max: number };
export type ThresholdResult = { metric: MetricName; rule: string; value: number; ok: boolean };

export type LoadSummary = {
  baseUrl: string;
  targetChats: number;
  users: number;
  procs: number;
  /** Chats with both users online, added over processes once a second. */
  chatsPeak: number;
  /** The lowest count during the hold: the load the run actually sustained. */
  chatsHeld: number;
  socketsPeak: number;
  trends: Partial<Record<MetricName, Percentiles>>;
  counters: Partial<Record<MetricName, number>>;
  rates: Partial<Record<MetricName, number>>;
  /** Per driver process: CPU seconds per wall second; near 1.0 means the driver, not the server, was the limit. */
  clientCpu: number[];
  clientEventLoopDelayP99Ms: number;
  failures: Record<string, number>;
  /** Refused messages by error code. */
  refusals: Record<string, number>;
  /** Delivery latency within the windows asked for (messages sent in the window). */
  windows: Record<string, Percentiles & { from: number; to: number }>;
  /** Epoch ms: when the run started, and when its last user was matched. */
  t0: number;
  lastMatchedAt: number | null;
  thresholds: ThresholdResult[];
  durationS: number;
};

const WORKER = new URL("./worker.ts", import.meta.url);
const HOLD_SETTLE_S = 5;
/** Leaves room under 20,000 open files for HTTP connections and the runtime's own. */
const SOCKETS_PER_PROC = 8_000;

export async function runLoad(o: LoadOptions): Promise<LoadSummary> {
  const users = 2 * o.chats;
  const procs = o.procs ?? Math.max(1, Math.ceil(users / (o.socketsPerProc ?? SOCKETS_PER_PROC)));
  const started = Date.now();
  // Far enough ahead that every process is up before the first user starts.
  const t0 = o.t0 ?? started + 1500;
  // Two runs may start in the same millisecond (a burst beside a step): the letters keep their users apart.
  const runId = `lt${started.toString(36)}${Math.random().toString(36).slice(2, 6)}`;

  const reports = await Promise.all(
    Array.from({ length: procs }, (_, procIndex) => {
      const config: WorkerConfig = {
        baseUrl: o.baseUrl.replace(/\/+$/, ""),
        runId,
        procIndex,
        procs,
        totalUsers: users,
        t0,
        rampMs: o.rampS * 1000,
        holdMs: o.holdS * 1000,
        rampDownMs: o.rampDownS * 1000,
        sendEveryMs: o.sendEveryMs ?? SEND_EVERY_MS,
        matchTimeoutMs: o.matchTimeoutMs ?? 30_000,
        pollEveryMs: o.pollEveryMs ?? 0,
        quietMs: (o.quietS ?? 0) * 1000,
        heartbeatMs: o.heartbeatMs,
        ...(o.concurrency ? { concurrency: Math.max(1, Math.round(o.concurrency / procs)) } : {}),
        ...(o.steadyUntil ? { steadyUntil: o.steadyUntil } : {}),
      };
      return runProcess(config);
    }),
  );
  return summarize(o, t0, procs, users, reports, (Date.now() - started) / 1000);
}

function runProcess(config: WorkerConfig): Promise<WorkerReport> {
  return new Promise((resolve, reject) => {
    const child = fork(WORKER, [], {
      execArgv: ["--experimental-strip-types", "--disable-warning=ExperimentalWarning"],
      serialization: "advanced",
    });
    let report: WorkerReport | null = null;
    child.once("message", (m) => (report = m as WorkerReport));
    child.once("error", reject);
    child.once("exit", (code) =>
      report ? resolve(report) : reject(new Error(`driver process ${config.procIndex} exited with ${code}`)),
    );
    child.send(config);
  });
}

const percentiles = (h: Histogram): Percentiles => ({
  count: h.count,
  avg: h.avg(),
  p50: h.percentile(50),
  p95: h.percentile(95),
  p99: h.percentile(99),
  max: h.percentile(100),
});

function summarize(
  o: LoadOptions,
  t0: number,
  procs: number,
  users: number,
  reports: WorkerReport[],
  durationS: number,
): LoadSummary {
  /** Per second since t0, added over processes; a second some process missed stays a hole, not a dip. */
  const sumSeries = (pick: (r: WorkerReport) => number[]): (number | undefined)[] => {
    const length = Math.max(...reports.map((r) => pick(r).length));
    return Array.from({ length }, (_, i) =>
      reports.every((r) => pick(r)[i] !== undefined) ? reports.reduce((sum, r) => sum + pick(r)[i], 0) : undefined,
    );
  };
  const present = (xs: (number | undefined)[]) => xs.filter((x): x is number => x !== undefined);
  const chatting = sumSeries((r) => r.chatting);
  // The hold starts once the last arrivals have had their partner (two users who queue at
  // the same instant meet on the next poll, up to 3 s later) and ends before the ramp-down.
  const quietS = o.quietS ?? 0;
  const hold = present(
    chatting.slice(
      Math.ceil(o.rampS) + Math.min(HOLD_SETTLE_S, Math.floor((quietS + o.holdS) / 2)),
      Math.floor(o.rampS + quietS + o.holdS),
    ),
  );

  const trends: LoadSummary["trends"] = {};
  // Every counter is reported, zeros included: "0 lost" is the point of the run.
  const counters: LoadSummary["counters"] = Object.fromEntries(
    Object.entries(METRICS)
      .filter(([, kind]) => kind === "counter")
      .map(([name]) => [name, 0]),
  );
  const rates: LoadSummary["rates"] = {};
  const failures: Record<string, number> = {};
  const refusals: Record<string, number> = {};
  const histograms = new Map<MetricName, Histogram>();
  const rateParts = new Map<MetricName, { passes: number; total: number }>();
  for (const r of reports) {
    for (const [name, data] of Object.entries(r.trends) as [
      MetricName,
      NonNullable<WorkerReport["trends"][MetricName]>,
    ][]) {
      if (!histograms.has(name)) histograms.set(name, new Histogram());
      histograms.get(name)!.merge(data);
    }
    for (const [name, n] of Object.entries(r.counters) as [MetricName, number][])
      counters[name] = (counters[name] ?? 0) + n;
    for (const [name, p] of Object.entries(r.rates) as [MetricName, { passes: number; total: number }][]) {
      const acc = rateParts.get(name) ?? { passes: 0, total: 0 };
      rateParts.set(name, { passes: acc.passes + p.passes, total: acc.total + p.total });
    }
    for (const [why, n] of Object.entries(r.failures)) failures[why] = (failures[why] ?? 0) + n;
    for (const [code, n] of Object.entries(r.refusals)) refusals[code] = (refusals[code] ?? 0) + n;
  }
  const matchedAt = reports.map((r) => r.lastMatchedAt).filter((at): at is number => at !== null);
  const lastMatchedAt = matchedAt.length ? Math.max(...matchedAt) : null;
  const windows: LoadSummary["windows"] = {};
  for (const [name, spec] of Object.entries(o.windows ?? {})) {
    const [from, to] = spec === "matching" ? [t0, lastMatchedAt ?? t0] : spec;
    const h = new Histogram();
    for (const r of reports)
      for (let i = 0; i < r.deliveries.length; i += 2)
        if (r.deliveries[i] >= from && r.deliveries[i] < to) h.add(r.deliveries[i + 1]);
    windows[name] = { from, to, ...percentiles(h) };
  }
  for (const [name, h] of histograms) trends[name] = percentiles(h);
  for (const [name, p] of rateParts) rates[name] = p.total ? p.passes / p.total : NaN;

  const summary: LoadSummary = {
    baseUrl: o.baseUrl,
    targetChats: o.chats,
    users,
    procs,
    chatsPeak: Math.floor(Math.max(0, ...present(chatting)) / 2),
    chatsHeld: Math.floor((hold.length ? Math.min(...hold) : 0) / 2),
    socketsPeak: Math.max(0, ...present(sumSeries((r) => r.sockets))),
    trends,
    counters,
    rates,
    clientCpu: reports.map((r) => r.cpuRatio),
    clientEventLoopDelayP99Ms: Math.max(...reports.map((r) => r.eventLoopDelayP99Ms)),
    failures,
    refusals,
    windows,
    t0,
    lastMatchedAt,
    thresholds: [],
    durationS,
  };
  summary.thresholds = evaluateThresholds(summary);
  return summary;
}

/** The k6 threshold expressions used in THRESHOLDS, evaluated on the merged results. */
export function evaluateThresholds(s: Pick<LoadSummary, "trends" | "counters" | "rates">): ThresholdResult[] {
  const results: ThresholdResult[] = [];
  for (const [metric, rules] of Object.entries(THRESHOLDS) as [MetricName, string[]][]) {
    for (const rule of rules) {
      const m = /^(p\((\d+(?:\.\d+)?)\)|rate|count)\s*(<|>|==)\s*([\d.]+)$/.exec(rule);
      if (!m) throw new Error(`unsupported threshold ${rule}`);
      const value = m[2]
        ? (s.trends[metric]?.[`p${m[2]}` as "p95"] ?? NaN)
        : m[1] === "rate"
          ? (s.rates[metric] ?? NaN)
          : (s.counters[metric] ?? 0);
      const limit = Number(m[4]);
      const ok = m[3] === "<" ? value < limit : m[3] === ">" ? value > limit : value === limit;
      results.push({ metric, rule, value, ok });
    }
  }
  return results;
}

const ms = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? "–" : v < 10 ? v.toFixed(2) : v.toFixed(0));

export function formatSummary(s: LoadSummary): string {
  const rows: [string, string][] = [
    [
      "target",
      `${s.targetChats} chats (${s.users} users, ${s.procs} driver process${s.procs > 1 ? "es" : ""}) → ${s.baseUrl}`,
    ],
    ["chats held (min during hold / peak)", `${s.chatsHeld} / ${s.chatsPeak}`],
    ["sockets open (peak)", String(s.socketsPeak)],
  ];
  for (const [name, t] of [
    ...Object.entries(s.trends),
    ...Object.entries(s.windows).map(([w, t]) => [`delivery_latency while ${w}`, t] as const),
  ]) {
    rows.push([`${name} ms`, `p50 ${ms(t.p50)}  p95 ${ms(t.p95)}  p99 ${ms(t.p99)}  max ${ms(t.max)}  (n=${t.count})`]);
  }
  for (const [name, n] of Object.entries(s.counters)) rows.push([name, String(n)]);
  for (const [name, r] of Object.entries(s.rates)) rows.push([name, `${(r * 100).toFixed(2)} %`]);
  rows.push(["client CPU per process (1.0 = saturated)", s.clientCpu.map((c) => c.toFixed(2)).join(", ")]);
  rows.push(["client event-loop delay p99 ms", ms(s.clientEventLoopDelayP99Ms)]);
  if (Object.keys(s.refusals).length)
    rows.push([
      "messages refused, by code",
      Object.entries(s.refusals)
        .map(([k, n]) => `${k}: ${n}`)
        .join("; "),
    ]);
  if (Object.keys(s.failures).length)
    rows.push([
      "failed users",
      Object.entries(s.failures)
        .map(([k, n]) => `${k}: ${n}`)
        .join("; "),
    ]);
  for (const t of s.thresholds)
    rows.push([`threshold ${t.metric} ${t.rule}`, `${t.ok ? "✓ pass" : "✗ FAIL"} (${ms(t.value)})`]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      "base-url": { type: "string", default: process.env.BASE_URL ?? "http://localhost:8787" },
      // Start the service on one workerd process (as the bench does, with MESSAGE_LOG_SAMPLE_RATE=0) instead of using --base-url.
      serve: { type: "boolean", default: false },
      heartbeat: { type: "string" },
      chats: { type: "string", default: "100" },
      ramp: { type: "string", default: "10" },
      hold: { type: "string", default: "30" },
      "ramp-down": { type: "string", default: "5" },
      procs: { type: "string" },
      "poll-every": { type: "string", default: "0" },
      concurrency: { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  const server = values.serve
    ? await startService({ runtime: "workerd", vars: { MESSAGE_LOG_SAMPLE_RATE: "0" } })
    : null;
  const summary = await runLoad({
    baseUrl: server?.baseUrl ?? values["base-url"]!,
    chats: Number(values.chats),
    rampS: Number(values.ramp),
    holdS: Number(values.hold),
    rampDownS: Number(values["ramp-down"]),
    procs: values.procs ? Number(values.procs) : undefined,
    pollEveryMs: Number(values["poll-every"]),
    ...(values.concurrency
      ? { concurrency: Number(values.concurrency), windows: { matching: "matching" as const } }
      : {}),
    ...(values.heartbeat ? { heartbeatMs: Number(values.heartbeat) } : {}),
  }).finally(() => server?.stop());
  console.log(values.json ? JSON.stringify(summary, null, 2) : formatSummary(summary));
  // Like k6: a distinct exit code when thresholds fail.
  if (summary.thresholds.some((t) => !t.ok)) process.exitCode = 99;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await main();
