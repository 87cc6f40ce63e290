/**
 * One driver process: runs its share of the simulated users (every procs-th user of the
 * global schedule) and reports raw metrics to the coordinator over IPC. Separate
 * processes exist because one process may hold at most 20,000 open files.
 */
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import WebSocket from "ws";
import { ChatUser, type Phase, type Runtime } from "../scenario/chat-user.ts";
import { METRICS, type MetricName, QUEUES } from "../scenario/metrics.ts";
import { Histogram, type HistogramData } from "./histogram.ts";

export type WorkerConfig = {
  baseUrl: string;
  runId: string;
  procIndex: number;
  procs: number;
  totalUsers: number;
  /** Epoch ms when the ramp starts, the same for every process. */
  t0: number;
  rampMs: number;
  holdMs: number;
  rampDownMs: number;
  sendEveryMs: number;
  matchTimeoutMs: number;
  pollEveryMs: number;
  /** Chats stay quiet (pings only) for this long after the ramp: the bench's idle phase. */
  quietMs: number;
  heartbeatMs?: number;
  /**
   * Arrivals limited by concurrency instead of the ramp's schedule: at most this many users of
   * this process are matching at once, and the next starts as soon as one is matched (or gave
   * up), like a fixed pool of clients setting up chats one after another. The ramp still sets
   * when sending stops.
   */
  concurrency?: number;
  /** Epoch ms: the steady window ends here instead of at the end of the hold (a burst follows it). */
  steadyUntil?: number;
};

export type WorkerReport = {
  users: number;
  trends: Partial<Record<MetricName, HistogramData>>;
  counters: Partial<Record<MetricName, number>>;
  rates: Partial<Record<MetricName, { passes: number; total: number }>>;
  /** Per second since t0 (a missed second is a hole): users chatting, and sockets open, in this process. */
  chatting: number[];
  sockets: number[];
  /** CPU seconds this process used per wall second (1.0 = one core saturated). */
  cpuRatio: number;
  eventLoopDelayP99Ms: number;
  failures: Record<string, number>;
  /** Every delivery as [sentAt, latency ms] pairs, flattened: latency over any window of the run. */
  deliveries: number[];
  /** Refused messages by error code. */
  refusals: Record<string, number>;
  /** Epoch ms when this process's last user was matched (null: none was). */
  lastMatchedAt: number | null;
};

/** A match request hanging longer than this counts as an HTTP error; the user retries. */
const MATCH_REQUEST_TIMEOUT_MS = 15_000;

/** Epoch milliseconds with sub-millisecond resolution, comparable across processes. */
const now = (): number => performance.timeOrigin + performance.now();

export async function runWorker(c: WorkerConfig): Promise<WorkerReport> {
  const trends = new Map<MetricName, Histogram>();
  const counters = new Map<MetricName, number>();
  const rates = new Map<MetricName, { passes: number; total: number }>();
  let chatting = 0;
  let openSockets = 0;
  const deliveries: number[] = [];
  const refusals: Record<string, number> = {};
  let lastMatchedAt: number | null = null;

  const runtime: Runtime = {
    now,
    async postJson(url, body) {
      const res = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(MATCH_REQUEST_TIMEOUT_MS),
      });
      return { status: res.status, body: res.status === 200 ? await res.json() : await res.text() };
    },
    connect(url, events) {
      const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true, handshakeTimeout: 15_000 });
      let counted = false;
      ws.on("open", () => {
        counted = true;
        openSockets++;
        events.open();
      });
      ws.on("message", (data) => events.message(data.toString()));
      ws.on("close", (code) => {
        if (counted) openSockets--;
        counted = false;
        events.close(code);
      });
      ws.on("error", (err) => events.error(err.message));
      return {
        send: (data) => {
          if (ws.readyState === WebSocket.OPEN) ws.send(data);
        },
        close: () => (ws.readyState === WebSocket.CONNECTING ? ws.terminate() : ws.close()),
      };
    },
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
    delivered: (sentAt, latencyMs) => void deliveries.push(sentAt, latencyMs),
    refused: (code) => void (refusals[code] = (refusals[code] ?? 0) + 1),
    record(metric, value) {
      switch (METRICS[metric]) {
        case "trend": {
          let h = trends.get(metric);
          if (!h) trends.set(metric, (h = new Histogram()));
          return h.add(Number(value));
        }
        case "counter":
          return void counters.set(metric, (counters.get(metric) ?? 0) + Number(value));
        case "rate": {
          const r = rates.get(metric) ?? { passes: 0, total: 0 };
          r.passes += value ? 1 : 0;
          r.total++;
          return void rates.set(metric, r);
        }
      }
    },
  };

  const isChatting = (p: Phase) => p === "chatting" || p === "finishing";
  // With a concurrency limit, a user leaving "matching" lets the next one in.
  const slots: (() => void)[] = [];
  let matching = 0;
  const freeSlot = () => {
    matching--;
    slots.shift()?.();
  };
  const takeSlot = async () => {
    if (matching >= (c.concurrency ?? Infinity)) await new Promise<void>((resolve) => slots.push(resolve));
    matching++;
  };
  const onPhase = (from: Phase, to: Phase) => {
    chatting += Number(isChatting(to)) - Number(isChatting(from));
    if (from === "matching" && c.concurrency) freeSlot();
  };

  const chattingSamples: number[] = [];
  const socketSamples: number[] = [];
  // Samples are keyed by whole seconds since t0, the grid all processes share, so the
  // coordinator can add them up; timers drift, so the index comes from the clock.
  let sampler: NodeJS.Timeout | undefined;
  const samplerStart = setTimeout(() => {
    sampler = setInterval(() => {
      const second = Math.round((now() - c.t0) / 1000);
      chattingSamples[second] = chatting;
      socketSamples[second] = openSockets;
    }, 1000);
  }, c.t0 - now());
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const cpuStart = process.cpuUsage();
  const wallStart = now();

  const failures: Record<string, number> = {};
  const runs: Promise<void>[] = [];
  for (let i = c.procIndex; i < c.totalUsers; i += c.procs) {
    const share = i / c.totalUsers;
    runs.push(
      (async () => {
        if (c.concurrency) {
          await sleepUntil(c.t0);
          await takeSlot();
        } else await sleepUntil(c.t0 + c.rampMs * share);
        const user = new ChatUser(
          runtime,
          {
            baseUrl: c.baseUrl,
            userId: `${c.runId}-${i}`,
            // Consecutive users share a queue, so every queue holds an even number of users.
            queue: QUEUES[Math.floor(i / 2) % QUEUES.length],
            stopSendingAt: c.t0 + c.rampMs + c.quietMs + c.holdMs + c.rampDownMs * share,
            quietUntil: c.quietMs ? c.t0 + c.rampMs + c.quietMs : 0,
            ...(c.heartbeatMs ? { heartbeatMs: c.heartbeatMs } : {}),
            steadyWindow: steadyWindowOf(c),
            sendEveryMs: c.sendEveryMs,
            matchTimeoutMs: c.matchTimeoutMs,
            pollEveryMs: c.pollEveryMs,
          },
          onPhase,
        );
        await user.run();
        const at = user.matchedTime;
        if (at !== null && (lastMatchedAt === null || at > lastMatchedAt)) lastMatchedAt = at;
        if (user.failure) failures[user.failure] = (failures[user.failure] ?? 0) + 1;
      })(),
    );
  }
  await Promise.all(runs);
  clearTimeout(samplerStart);
  clearInterval(sampler);
  loop.disable();
  const cpu = process.cpuUsage(cpuStart);

  return {
    users: runs.length,
    trends: Object.fromEntries([...trends].map(([k, h]) => [k, h.toJSON()])),
    counters: Object.fromEntries(counters),
    rates: Object.fromEntries(rates),
    chatting: chattingSamples,
    sockets: socketSamples,
    cpuRatio: (cpu.user + cpu.system) / 1000 / (now() - wallStart),
    eventLoopDelayP99Ms: loop.percentile(99) / 1e6,
    failures,
    deliveries,
    refusals,
    lastMatchedAt,
  };
}

/**
 * The steady part of a run: once every chat has had a full sending period after the quiet
 * phase (plus slack), until the hold ends and chats start to leave.
 */
function steadyWindowOf(c: WorkerConfig): [number, number] {
  const talking = c.t0 + c.rampMs + c.quietMs;
  return [talking + c.sendEveryMs + STEADY_SLACK_MS, c.steadyUntil ?? talking + c.holdMs];
}
const STEADY_SLACK_MS = 2_000;

function sleepUntil(at: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, at - now())));
}

// Forked by the coordinator: one config in, one report out.
process.once("message", async (config: WorkerConfig) => {
  const report = await runWorker(config);
  process.send!(report, () => process.exit(0));
});
