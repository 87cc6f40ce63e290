/**
 * The KV waiting list: one key per waiting user (so no key is ever hot), laid out as
 * `q/<mode>/<language>/<emotion>/<enqueued-at>.<seatId>` so a single prefix list returns
 * the exact queue, a whole language (widening by emotion) or a whole mode (any language),
 * oldest first, with each entry's facts in its metadata: no extra reads.
 *
 * KV is eventually consistent, has no compare-and-swap, allows one write per second per key
 * and expires keys no sooner than 60 s, so the 30 s window is enforced here from `seenAt`
 * and KV's own expiry only garbage-collects.
 */
import { kvExpirationTtl, type Timings } from "./config";
import { meter } from "./metering";
import { inScope, queueOrder, type Criteria, type QueueEntry, type Scope, type WaitingList } from "./queue-entry";

const part = (s: string) => encodeURIComponent(s);

function prefixOf(c: Criteria, scope: Scope): string {
  if (scope === "any") return `q/${part(c.mode)}/`;
  if (scope === "language") return `q/${part(c.mode)}/${part(c.language)}/`;
  return `q/${part(c.mode)}/${part(c.language)}/${part(c.emotion)}/`;
}

const keyOf = (e: QueueEntry): string => `${prefixOf(e, "exact")}${e.enqueuedAt.toString(36).padStart(9, "0")}.${e.seatId}`;

/** A page is 1000 keys; a scope longer than a few pages has plenty of candidates already. */
const MAX_PAGES = 3;
const ENOUGH = 50;

export function kvWaitingList(kv: KVNamespace, t: Timings): WaitingList {
  return {
    async put(entry) {
      meter("kv.put");
      await kv.put(keyOf(entry), "", { metadata: entry, expirationTtl: kvExpirationTtl(t) });
    },
    async remove(entry) {
      meter("kv.delete");
      await kv.delete(keyOf(entry));
    },
    async fresh(around, scope, now) {
      const fresh: QueueEntry[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        meter("kv.list");
        const res = await kv.list<QueueEntry>({ prefix: prefixOf(around, scope), cursor });
        for (const { metadata } of res.keys) {
          if (metadata && now - metadata.seenAt <= t.queueTtlMs && inScope(metadata, around, scope)) fresh.push(metadata);
        }
        if (res.list_complete || fresh.length >= ENOUGH) break;
        cursor = res.cursor;
      }
      // Keys sort by enqueue time within one emotion; a wider scope spans several, so sort.
      return scope === "exact" ? fresh : fresh.sort(queueOrder);
    },
  };
}
