/**
 * Where a lobby keeps its waits so it can rebuild its queue after it was evicted or restarted
 * (a deploy closes every socket; clients come back with their tickets). The lobby decides in
 * memory and is the only writer of its waits, so this is a copy, never a source of decisions;
 * waits are written only once they have lasted a moment (most waits in a busy queue are paired
 * within milliseconds and never written at all). Two stores, chosen by MATCHMAKER:
 *
 * - "kv" (the default): one KV key per wait, `q/<mode>/<language>/<emotion>/<enqueued-at>.<seat>`,
 *   its facts in the key's metadata, so one list by the lobby's prefix reads the whole queue.
 *   One writer per key and one write per change, so KV's limit of one write per second per key
 *   is never met; KV expires keys no sooner than 60 s, so the 30 s window is the lobby's, and
 *   KV's own expiry only collects what a lobby could not delete.
 * - "durable-object": the lobby's own storage, one key per wait.
 *
 * `WaitCopies` keeps the copy in step with the lobby's waits: when a wait is due to be written,
 * what is written, and what must go.
 */
import { kvExpirationTtl, type Timings, waitStoreKind } from "../platform/config";
import { meter, meterStorage } from "../platform/metering";
import type { WaitState } from "./lobby-rules";

/** What is kept of a wait: waiting here, or lent to a pool (a rebuilt lobby must not offer a lent wait itself). */
export type StoredWait = Extract<WaitState, { kind: "waiting" | "lent" }>;

export interface WaitStore {
  /** Every wait stored for this lobby. */
  load(): Promise<StoredWait[]>;
  save(w: StoredWait): Promise<void>;
  remove(w: StoredWait): Promise<void>;
}

export function waitStoreFor(env: Env, storage: DurableObjectStorage, lobby: string, t: Timings): WaitStore {
  return waitStoreKind(env) === "durable-object" ? objectStore(storage) : kvStore(env.QUEUE, lobby, t);
}

/** Waits of this lobby's own (not lent in from elsewhere) that are waiting or lent: what the copy holds. */
const kept = (w: WaitState | null | undefined): w is StoredWait => !!w && w.kind !== "matched" && !w.home;

/**
 * The lobby's copy of its waits, written behind its decisions: a wait that lasts is written
 * once, again when it is lent or back from the pool, and removed once it is paired or over.
 * Writes go in the background (`background`); the copy never holds up a decision.
 */
export class WaitCopies {
  /** What the store holds of each wait, by its kind. */
  private readonly kinds = new Map<string, StoredWait["kind"]>();

  /**
   * A wait is written once it has lasted a sixth of its window (5 s of 30). Most waits of a busy
   * queue are paired sooner and never written; and a lobby that falls behind in a burst does not
   * add a write and a delete for every wait it is slow to pair. A restart (a deploy) loses only
   * waits younger than this.
   */
  private readonly writeAfterMs: number;

  constructor(
    t: Timings,
    private readonly store: WaitStore,
    /** The wait as it is now in the lobby. */
    private readonly current: (seatId: string) => WaitState | undefined,
    private readonly background: (work: Promise<unknown>, what: string) => void,
  ) {
    this.writeAfterMs = t.queueTtlMs / 6;
  }

  /** What the store holds, as the lobby had it; remembered as written. */
  async load(): Promise<StoredWait[]> {
    const waits = await this.store.load();
    for (const w of waits) this.kinds.set(w.seatId, w.kind);
    return waits;
  }

  /** A wait changed from `old` to `now` (null: gone): a copy that no longer fits goes or is rewritten. */
  changed(old: WaitState | undefined, now: WaitState | null): void {
    const written = old && this.kinds.get(old.seatId);
    if (!written) return;
    if (!kept(now)) {
      this.kinds.delete(old.seatId);
      if (kept(old)) this.background(this.store.remove(old), "store.remove");
    } else if (written === "lent" && now.kind === "waiting") {
      this.background(this.write(now), "store.save");
    }
  }

  /** When this wait must be written, if it is not yet: it lasted a moment. */
  dueAt(w: WaitState, now: number): number | null {
    return this.unwritten(w) ? Math.max(now + 1, w.enqueuedAt + this.writeAfterMs) : null;
  }

  /** Writes every wait that is due. */
  flush(waits: Iterable<WaitState>, now: number): void {
    for (const w of waits)
      if (this.unwritten(w) && now >= w.enqueuedAt + this.writeAfterMs) this.background(this.write(w), "store.save");
  }

  private unwritten(w: WaitState): w is StoredWait {
    return w.kind === "waiting" && !w.home && !this.kinds.has(w.seatId);
  }

  /** Whether the store already says this wait is lent. */
  holdsLent(seatId: string): boolean {
    return this.kinds.get(seatId) === "lent";
  }

  /** Writes a wait as it is now (remembered at once, so no alarm asks again meanwhile); one paired or over meanwhile is removed again. */
  async write(w: StoredWait): Promise<void> {
    this.kinds.set(w.seatId, w.kind);
    try {
      await this.store.save(w);
    } catch (err) {
      if (this.kinds.get(w.seatId) === w.kind) this.kinds.delete(w.seatId);
      throw err;
    }
    if (!kept(this.current(w.seatId))) {
      this.kinds.delete(w.seatId);
      await this.store.remove(w);
    }
  }
}

const part = (s: string) => encodeURIComponent(s);

/** The lobby `mode/language` (or `mode/language/emotion`, split) lists everything under its prefix. */
const prefixOf = (lobby: string): string => `q/${lobby.split("/").map(part).join("/")}/`;

function keyOf(w: StoredWait): string {
  const { mode, language, emotion } = w.owner.criteria;
  return `q/${part(mode)}/${part(language)}/${part(emotion)}/${w.enqueuedAt.toString(36).padStart(9, "0")}.${w.seatId}`;
}

/** KV keeps at most this much metadata per key; a wait that does not fit (a long avoid list) goes in the value. */
const METADATA_BYTES = 1024;
const bytes = new TextEncoder();
/** A rebuild reads at most this many pages: its cost is bounded, and a queue that long pairs at once anyway. */
const MAX_PAGES = 5;

function kvStore(kv: KVNamespace, lobby: string, t: Timings): WaitStore {
  return {
    async load() {
      const waits: StoredWait[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        meter("kv.list");
        const res = await kv.list<StoredWait | { inValue: true }>({ prefix: prefixOf(lobby), cursor });
        for (const { name, metadata } of res.keys) {
          if (!metadata) continue;
          if ("inValue" in metadata) {
            meter("kv.get");
            const w = await kv.get<StoredWait>(name, "json");
            if (w) waits.push(w);
          } else waits.push(metadata);
        }
        if (res.list_complete) break;
        cursor = res.cursor;
      }
      return waits;
    },
    async save(w) {
      meter("kv.put");
      const json = JSON.stringify(w);
      const expirationTtl = kvExpirationTtl(t);
      if (bytes.encode(json).length <= METADATA_BYTES) await kv.put(keyOf(w), "", { metadata: w, expirationTtl });
      else await kv.put(keyOf(w), json, { metadata: { inValue: true }, expirationTtl });
    },
    async remove(w) {
      meter("kv.delete");
      await kv.delete(keyOf(w));
    },
  };
}

const WAIT_KEY = "wait:";

/**
 * The lobby's own storage. A copy's writes must not hold up the lobby's answers (the runtime
 * holds everything an object sends until its writes are durable), so they go unconfirmed; but
 * a wait lent to the pool must be durable as lent before the pool hears of it.
 */
function objectStore(storage: DurableObjectStorage): WaitStore {
  return {
    async load() {
      return [...(await storage.list<StoredWait>({ prefix: WAIT_KEY })).values()];
    },
    async save(w) {
      meterStorage("rows.written", "lobby.wait");
      await storage.put(WAIT_KEY + w.seatId, w, { allowUnconfirmed: w.kind !== "lent" });
    },
    async remove(w) {
      meterStorage("rows.written", "lobby.wait");
      await storage.delete(WAIT_KEY + w.seatId, { allowUnconfirmed: true });
    },
  };
}
