/**
 * Stats: live counters for operators, fed by the rooms as things happen, so `/api/stats`
 * reads a few numbers instead of scanning KV. Counts only, never ids or names.
 *
 * One object takes every pairing event (about three per chat): well inside a Durable
 * Object's ~1,000 requests/s at this service's scale. Beyond that, shard it by queue.
 */
import { DurableObject } from "cloudflare:workers";
import { meterReadings } from "./metering";
import type { StatsSnapshot } from "./protocol";

export type StatsEvent =
  | { kind: "enqueued"; queue: string }
  | { kind: "left_queue"; queue: string }
  | { kind: "paired"; queue: string }
  | { kind: "room_closed" };

type Counters = {
  waiting: { [queue: string]: number };
  activeRooms: number;
  /** Pairings per minute (epoch minute → count), the last hour. */
  pairings: { [minute: string]: number };
  since: number;
};

const HOUR_MINUTES = 60;

export class Stats extends DurableObject<Env> {
  private counters: Counters = { waiting: {}, activeRooms: 0, pairings: {}, since: Date.now() };

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      this.counters = (await ctx.storage.get<Counters>("counters")) ?? this.counters;
    });
  }

  async record(event: StatsEvent): Promise<void> {
    const c = this.counters;
    const minute = Math.floor(Date.now() / 60_000);
    switch (event.kind) {
      case "enqueued":
        c.waiting[event.queue] = (c.waiting[event.queue] ?? 0) + 1;
        break;
      case "paired":
        c.activeRooms += 1;
        c.pairings[minute] = (c.pairings[minute] ?? 0) + 1;
        this.leaveQueue(event.queue);
        break;
      case "left_queue":
        this.leaveQueue(event.queue);
        break;
      case "room_closed":
        c.activeRooms = Math.max(0, c.activeRooms - 1);
        break;
    }
    for (const m of Object.keys(c.pairings)) if (Number(m) <= minute - HOUR_MINUTES) delete c.pairings[m];
    await this.ctx.storage.put("counters", c);
  }

  private leaveQueue(queue: string): void {
    const left = Math.max(0, (this.counters.waiting[queue] ?? 0) - 1);
    if (left) this.counters.waiting[queue] = left;
    else delete this.counters.waiting[queue];
  }

  snapshot(): Omit<StatsSnapshot, "operations"> {
    const c = this.counters;
    const minute = Math.floor(Date.now() / 60_000);
    const pairingsPerMinute = Object.entries(c.pairings)
      .map(([m, pairings]) => ({ minute: new Date(Number(m) * 60_000).toISOString(), pairings, m: Number(m) }))
      .sort((a, b) => a.m - b.m)
      .map(({ minute, pairings }) => ({ minute, pairings }));
    return {
      waiting: c.waiting,
      waitingTotal: Object.values(c.waiting).reduce((a, b) => a + b, 0),
      activeRooms: c.activeRooms,
      pairingsThisMinute: c.pairings[minute] ?? 0,
      pairingsLastMinute: c.pairings[minute - 1] ?? 0,
      pairingsPerMinute,
      since: new Date(c.since).toISOString(),
    };
  }
}

/** What `/api/stats` serves: the counters, plus this isolate's storage operation counts. */
export async function statsReport(env: Env): Promise<StatsSnapshot> {
  return { ...(await statsStub(env).snapshot()), operations: meterReadings() };
}

const statsStub = (env: Env): DurableObjectStub<Stats> => env.STATS.get(env.STATS.idFromName("global"));

/** Counting never holds up a chat, and a lost count is not worth an error. */
export function count(env: Env, event: StatsEvent): void {
  statsStub(env)
    .record(event)
    .catch(() => {});
}
