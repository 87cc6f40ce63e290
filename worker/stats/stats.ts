/**
 * Stats: live counters for operators, so `/api/stats` reads a few numbers instead of scanning
 * KV. Counts only, never ids or names. Who waits where, the lobbies know already: each tells
 * one shard's directory that it exists (once in a while, while it holds waits), and the report
 * asks the lobbies listed. Rooms report their pairing and their end as they happen; nothing on
 * the way to a match waits for it.
 *
 * The room counters are spread over STATS_SHARDS objects (a room always reports to the same
 * one, so its +1 and -1 meet), so no single object takes every event of every chat; the report
 * adds them up. What the public sees is coarser (`publicView`).
 */
import { DurableObject } from "cloudflare:workers";
import { ANY, EMOTIONS, LANGUAGES, type StatsSnapshot } from "@strangers/protocol";
import { meterReadings, meterStorage } from "../platform/metering";
import { allStatsShards, STATS_SHARDS, shardOf, statsStub, unmeteredLobby } from "../platform/stubs";

export { STATS_SHARDS };

/** `pairs` pairings made (by a lobby, counted in batches); `waits`: how long each side had been looking, in the queue each looked in. */
export type StatsEvent =
  | { kind: "paired"; pairs: number; waits: { queue: string; ms: number }[] }
  | { kind: "room_closed" }
  | { kind: "filtered"; categories: string[] };

type Counters = {
  /** Rooms opened (pairings, counted by the lobbies) and closed (by the rooms), whichever shard heard of each: open rooms are the difference summed over shards. */
  opened: number;
  closed: number;
  /** Pairings per minute (epoch minute → count), the last hour. */
  pairings: { [minute: string]: number };
  /** Waits that ended in a pairing, per minute and offered queue: counts per WAIT_BUCKETS bound. */
  waits: { [minute: string]: { [queue: string]: number[] } };
  filtered: { [category: string]: number };
  since: number;
  /** The directory: lobbies (by name) that said they hold waits, and when they last said so. */
  lobbies?: { [name: string]: number };
};

/** The full report, with what only the server needs: recent waits per queue, summed over the shards. */
export type StatsReport = StatsSnapshot<number> & { recentWaits: { [queue: string]: number[] } };

const HOUR_MINUTES = 60;
/** A lobby that has not said it holds waits for this long is dropped from the directory (one that does says so every 10 minutes). */
const LOBBY_LISTED_MS = 30 * 60_000;
/** The report asks at most this many lobbies: the queues people use, however many names clients invent. */
const LOBBIES_ASKED = 256;
/** "Usually paired within" looks back this far: recent enough to follow the time of day. */
const WAIT_WINDOW_MINUTES = 15;
/** Public counts below this show as "<5": a 1 would tell that someone is alone in a queue. */
export const SMALL_COUNT = 5;

export class Stats extends DurableObject<Env> {
  private counters: Counters = { opened: 0, closed: 0, pairings: {}, waits: {}, filtered: {}, since: Date.now() };

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      // Counters saved before rooms were counted apart (one gauge per shard) read as rooms opened.
      const stored = await ctx.storage.get<Counters & { activeRooms?: number }>("counters");
      this.counters = { ...this.counters, ...stored, opened: stored?.opened ?? stored?.activeRooms ?? 0 };
    });
  }

  async record(event: StatsEvent): Promise<void> {
    const c = this.counters;
    const minute = Math.floor(Date.now() / 60_000);
    switch (event.kind) {
      case "paired": {
        c.opened += event.pairs;
        c.pairings[minute] = (c.pairings[minute] ?? 0) + event.pairs;
        const waits = (c.waits[minute] ??= {});
        for (const { queue, ms } of event.waits) {
          // Only the queues the page offers: a queue name is the client's to choose, and storage is not.
          const counts = (waits[offeredQueue(queue) ? queue : "other"] ??= WAIT_BUCKETS.map(() => 0));
          counts[waitBucket(ms)] += 1;
        }
        break;
      }
      case "room_closed":
        c.closed += 1;
        break;
      case "filtered":
        for (const category of event.categories) c.filtered[category] = (c.filtered[category] ?? 0) + 1;
        break;
    }
    for (const m of Object.keys(c.pairings)) if (Number(m) <= minute - HOUR_MINUTES) delete c.pairings[m];
    for (const m of Object.keys(c.waits)) if (Number(m) <= minute - WAIT_WINDOW_MINUTES) delete c.waits[m];
    meterStorage("rows.written", "stats");
    await this.ctx.storage.put("counters", c);
  }

  /** A lobby holds waits: who waits where is asked of it. */
  async register(lobby: string): Promise<void> {
    const now = Date.now();
    const lobbies = (this.counters.lobbies ??= {});
    lobbies[lobby] = now;
    for (const [name, at] of Object.entries(lobbies)) if (at < now - LOBBY_LISTED_MS) delete lobbies[name];
    meterStorage("rows.written", "stats");
    await this.ctx.storage.put("counters", this.counters);
  }

  counts(): Counters {
    return this.counters;
  }
}

/** Counting never holds up a chat, and a lost count is not worth an error. */
export function count(env: Env, event: StatsEvent, reporter: string): void {
  statsStub(env, shardOf(reporter, STATS_SHARDS))
    .record(event)
    .catch(() => {});
}

/** Exact counters summed over the shards, for operators and tests; the route serves `publicView` of it. */
export async function statsReport(env: Env): Promise<StatsReport> {
  const all = await Promise.all(allStatsShards(env).map((s) => s.counts()));
  const listed = all.flatMap((c) => Object.entries(c.lobbies ?? {})).sort(([, a], [, b]) => b - a);
  const lobbies = [...new Set(listed.map(([name]) => name))].slice(0, LOBBIES_ASKED);
  const held = await Promise.all(lobbies.map((name) => unmeteredLobby(env, name).waitingCounts()));
  const waiting: { [queue: string]: number } = {};
  const pairings: { [minute: string]: number } = {};
  for (const counts of held) for (const [q, n] of Object.entries(counts)) waiting[q] = (waiting[q] ?? 0) + n;
  const filtered: { [category: string]: number } = {};
  const recentWaits: { [queue: string]: number[] } = {};
  const minute = Math.floor(Date.now() / 60_000);
  for (const c of all) {
    for (const [m, n] of Object.entries(c.pairings)) pairings[m] = (pairings[m] ?? 0) + n;
    for (const [category, n] of Object.entries(c.filtered ?? {})) filtered[category] = (filtered[category] ?? 0) + n;
    for (const [m, queues] of Object.entries(c.waits ?? {})) {
      if (Number(m) <= minute - WAIT_WINDOW_MINUTES) continue;
      for (const [queue, counts] of Object.entries(queues)) {
        const sum = (recentWaits[queue] ??= WAIT_BUCKETS.map(() => 0));
        counts.forEach((n, i) => {
          sum[i] += n;
        });
      }
    }
  }
  return {
    waiting,
    waitingTotal: Object.values(waiting).reduce((a, b) => a + b, 0),
    activeRooms: Math.max(
      0,
      all.reduce((sum, c) => sum + c.opened - c.closed, 0),
    ),
    pairingsThisMinute: pairings[minute] ?? 0,
    pairingsLastMinute: pairings[minute - 1] ?? 0,
    pairingsPerMinute: Object.keys(pairings)
      .map(Number)
      .sort((a, b) => a - b)
      .map((m) => ({ minute: new Date(m * 60_000).toISOString(), pairings: pairings[m] })),
    since: new Date(Math.min(...all.map((c) => c.since))).toISOString(),
    filtered,
    operations: meterReadings(),
    recentWaits,
  };
}

/**
 * What anyone may read: only the queues the page offers (everything else summed as "other", so
 * nobody can publish a string through it), and small numbers as "<5".
 */
export function publicView({ recentWaits: _, ...report }: StatsReport): StatsSnapshot {
  const coarse = (n: number): number | string => (n > 0 && n < SMALL_COUNT ? `<${SMALL_COUNT}` : n);
  const waiting: { [queue: string]: number } = {};
  for (const [queue, n] of Object.entries(report.waiting)) {
    const bucket = offeredQueue(queue) ? queue : "other";
    waiting[bucket] = (waiting[bucket] ?? 0) + n;
  }
  return {
    ...report,
    waiting: Object.fromEntries(Object.entries(waiting).map(([q, n]) => [q, coarse(n)])),
    waitingTotal: coarse(report.waitingTotal),
    activeRooms: coarse(report.activeRooms),
  };
}

/** A queue the page offers: the default mode, one of its feelings and languages (or any). */
export function offeredQueue(queue: string): boolean {
  // An emotion is free text and may hold a ":" itself: "any:😊:en:x:de" is not an offered queue.
  const parts = queue.split(":");
  if (parts.length !== 3) return false;
  const [mode, emotion, language] = parts;
  const offered = (list: readonly string[], value: string) => value === ANY || list.includes(value);
  return mode === ANY && offered(EMOTIONS, emotion) && offered(LANGUAGES, language);
}

/** Upper bounds (seconds) of the wait buckets: what "usually paired within" can say, already rounded. */
export const WAIT_BUCKETS = [5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, Infinity] as const;

const waitBucket = (ms: number): number => WAIT_BUCKETS.findIndex((bound) => ms / 1000 <= bound);
