/**
 * MatchQueue: the strongly consistent waiting-list backend (MATCHMAKER = "durable-object").
 * Each object holds its waiting entries in memory (and in its storage, to survive eviction).
 * One object per exact queue (mode, language, feeling) takes every wait, so the load of a
 * popular language is spread over its feelings; waits that widened are also indexed by
 * language (one object per mode and language: only waits past the feeling threshold) and,
 * for those who accept any language, by mode. A seeker reads one object instead of listing
 * KV: no KV operation on the hot path, and what it reads is never stale. Each object is
 * single-threaded with a budget of about 1,000 requests a second; the bench's capacity model
 * prints the busiest one's rate.
 */
import { DurableObject } from "cloudflare:workers";
import { timings, type Timings } from "./config";
import type { WideningSettings } from "./widening";
import { meter, meterStorage } from "./metering";
import { queueStub } from "./stubs";
import { inScope, queueOrder, type Criteria, type QueueEntry, type Scope, type WaitingList } from "./queue-entry";

export class MatchQueue extends DurableObject<Env> {
  private entries = new Map<string, QueueEntry>();
  private readonly t: Timings;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.t = timings(env);
    ctx.blockConcurrencyWhile(async () => {
      for (const [seatId, entry] of await ctx.storage.list<QueueEntry>()) this.entries.set(seatId, entry);
    });
  }

  async put(entry: QueueEntry): Promise<void> {
    this.entries.set(entry.seatId, entry);
    meterStorage("rows.written", "queue");
    await this.ctx.storage.put(entry.seatId, entry);
  }

  async remove(seatId: string): Promise<void> {
    if (!this.entries.delete(seatId)) return;
    meterStorage("rows.written", "queue");
    await this.ctx.storage.delete(seatId);
  }

  async fresh(around: Criteria, scope: Scope, now: number, limit: number): Promise<QueueEntry[]> {
    const fresh: QueueEntry[] = [];
    const forgotten: string[] = [];
    for (const entry of this.entries.values()) {
      const silentFor = now - entry.seenAt;
      // An owner gone for two windows is not coming back; its seat may have been evicted before removing it.
      if (silentFor > 2 * this.t.queueTtlMs) forgotten.push(entry.seatId);
      else if (silentFor <= this.t.queueTtlMs && inScope(entry, around, scope)) fresh.push(entry);
    }
    if (forgotten.length) {
      for (const id of forgotten) this.entries.delete(id);
      await this.ctx.storage.delete(forgotten);
    }
    return fresh.sort(queueOrder).slice(0, limit);
  }
}

/** The object that holds a scope's entries around these criteria. */
export function queueNameOf(c: Criteria, scope: Scope): string {
  if (scope === "any") return `${c.mode}:*`;
  if (scope === "language") return `${c.mode}:${c.language}:*`;
  return `${c.mode}:${c.language}:${c.emotion}`;
}

export function doWaitingList(env: Env, w: WideningSettings): WaitingList {
  const queue = (name: string) => queueStub(env, name);
  /** Every wait is in its exact queue; widened waits also in the wider indexes (a seat puts its entry again when its wait widens). */
  const homes = (e: QueueEntry, now: number): string[] => {
    const waited = now - e.enqueuedAt;
    return [
      queueNameOf(e, "exact"),
      ...(waited >= w.emotionAfterMs ? [queueNameOf(e, "language")] : []),
      ...(e.anyLanguage && waited >= w.languageAfterMs ? [queueNameOf(e, "any")] : []),
    ];
  };
  return {
    async put(entry) {
      meter("queue.put");
      await Promise.all(homes(entry, Date.now()).map((name) => queue(name).put(entry)));
    },
    async remove(entry) {
      meter("queue.remove");
      // Wherever it may have been put: its homes only grow with time (an index it never reached ignores the call).
      await Promise.all(homes(entry, Date.now()).map((name) => queue(name).remove(entry.seatId)));
    },
    async fresh(around, scope, now, limit) {
      meter("queue.read");
      return queue(queueNameOf(around, scope)).fresh(around, scope, now, limit);
    },
  };
}
