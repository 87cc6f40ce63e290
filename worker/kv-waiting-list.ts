/**
 * The KV waiting list: one key per waiting user (so no key is ever hot), laid out as
 * `q/<mode>/<language>/<emotion>/<enqueued-at>.<seatId>` so a single prefix list returns
 * the exact queue or a whole language (widening by emotion), oldest first, with each entry's
 * facts in its metadata: no extra reads. Waits that accept any language also have a key in
 * `a/<mode>/<enqueued-at>.<seatId>`, the index widening by language reads.
 *
 * KV is eventually consistent, has no compare-and-swap, allows one write per second per key
 * and expires keys no sooner than 60 s, so the 30 s window is enforced here from `seenAt`
 * and KV's own expiry only garbage-collects.
 */
import { kvExpirationTtl, type Timings } from "./config";
import { meter } from "./metering";
import { inScope, queueOrder, type Criteria, type QueueEntry, type Scope, type WaitingList } from "./queue-entry";

const part = (s: string) => encodeURIComponent(s);
const at = (e: QueueEntry) => `${e.enqueuedAt.toString(36).padStart(9, "0")}.${e.seatId}`;

/**
 * Where a scope's entries live. The exact queue and a whole language are prefixes of the queue
 * keys; "any language" has an index of its own, holding only the waits that accept any
 * language, in enqueue order, so waits that never widen cannot use up its pages.
 */
function prefixOf(c: Criteria, scope: Scope): string {
  if (scope === "any") return `a/${part(c.mode)}/`;
  if (scope === "language") return `q/${part(c.mode)}/${part(c.language)}/`;
  return `q/${part(c.mode)}/${part(c.language)}/${part(c.emotion)}/`;
}

const keysOf = (e: QueueEntry): string[] => [`${prefixOf(e, "exact")}${at(e)}`, ...(e.anyLanguage ? [`${prefixOf(e, "any")}${at(e)}`] : [])];

/**
 * A search reads at most this many pages of a scope, however many waits there are: its cost is
 * bounded, and a scope that long has plenty of candidates anyway. The exact queue and the
 * any-language index are in enqueue order, so a page of `limit` keys is the longest waiters;
 * a whole language is in emotion order, so it is read in full pages and sorted.
 */
const MAX_PAGES = 3;
const FULL_PAGE = 1000;

export function kvWaitingList(kv: KVNamespace, t: Timings): WaitingList {
  return {
    async put(entry) {
      for (const key of keysOf(entry)) {
        meter("kv.put");
        await kv.put(key, "", { metadata: entry, expirationTtl: kvExpirationTtl(t) });
      }
    },
    async remove(entry) {
      for (const key of keysOf(entry)) {
        meter("kv.delete");
        await kv.delete(key);
      }
    },
    async fresh(around, scope, now, limit) {
      const fresh: QueueEntry[] = [];
      const ordered = scope !== "language";
      let cursor: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        meter("kv.list");
        const res = await kv.list<QueueEntry>({ prefix: prefixOf(around, scope), cursor, limit: ordered ? limit : FULL_PAGE });
        for (const { metadata } of res.keys) {
          if (metadata && now - metadata.seenAt <= t.queueTtlMs && inScope(metadata, around, scope)) fresh.push(metadata);
        }
        if (res.list_complete || fresh.length >= limit) break;
        cursor = res.cursor;
      }
      return ordered ? fresh.slice(0, limit) : fresh.sort(queueOrder).slice(0, limit);
    },
  };
}
