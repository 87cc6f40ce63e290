/**
 * MatchQueue: the strongly consistent waiting-list backend (MATCHMAKER = "durable-object").
 * One object per mode and language holds that language's waiting entries in memory (and in
 * its storage, to survive eviction); one more per mode holds the entries that accept any
 * language. A seeker reads one object instead of listing KV: no KV operation on the hot
 * path, and what it reads is never stale. Each object is single-threaded, so a very hot
 * language is bounded by one object's budget (about 1,000 requests/s).
 */
import { DurableObject } from "cloudflare:workers";
import { timings, type Timings } from "./config";
import { meter } from "./metering";
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
    meter("rows.written");
    await this.ctx.storage.put(entry.seatId, entry);
  }

  async remove(seatId: string): Promise<void> {
    if (!this.entries.delete(seatId)) return;
    meter("rows.written");
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

const homeOf = (c: Criteria) => `${c.mode}:${c.language}`;
const anyLanguageOf = (c: Criteria) => `${c.mode}:*`;

export function doWaitingList(env: Env): WaitingList {
  const queue = (name: string) => queueStub(env, name);
  const homes = (e: QueueEntry) => (e.anyLanguage ? [homeOf(e), anyLanguageOf(e)] : [homeOf(e)]);
  return {
    async put(entry) {
      meter("queue.put");
      await Promise.all(homes(entry).map((name) => queue(name).put(entry)));
    },
    async remove(entry) {
      meter("queue.remove");
      await Promise.all(homes(entry).map((name) => queue(name).remove(entry.seatId)));
    },
    async fresh(around, scope, now, limit) {
      meter("queue.read");
      return queue(scope === "any" ? anyLanguageOf(around) : homeOf(around)).fresh(around, scope, now, limit);
    },
  };
}
