/**
 * Lobby: the one authority over a queue. One Durable Object per mode and language (or, for a
 * language split by feeling, per feeling), named as `lobbyNameOf` says; plus one pool per mode
 * (`mode/*`) for searches that reach past a lobby (another language). Every pairing of its
 * waits is decided here, in memory, in one step on the object's one thread: a newcomer's
 * request is answered at once with a partner or a wait, and a waiter hears `matched` on the
 * waiting socket this object holds. The rules are lobby-rules.ts; this object keeps the waits
 * and their order, applies the rules, and carries out their effects without making anyone wait
 * for them (the room is opened, a pool is told, the store is written, in the background).
 *
 * Its waits are rebuilt after an eviction or restart from its store (wait-store.ts) and from
 * what each waiting socket keeps in its attachment (sockets survive hibernation).
 */

import { CLOSE, type Pairing } from "@strangers/protocol";
import type { ParsedClientFrame } from "@strangers/protocol/schemas";
import { nanoid } from "nanoid";
import { type Timings, timings, widening } from "../platform/config";
import { log } from "../platform/log";
import { meter } from "../platform/metering";
import { type Admission, attachmentOf, close, SocketObject, send } from "../platform/socket-object";
import { lobbyStub, roomStub, STATS_SHARDS, shardOf, statsStub } from "../platform/stubs";
import type {
  Ids,
  LobbyEffect,
  LobbyKind,
  LobbyRules,
  LobbyView,
  Recalled,
  Standing,
  Step,
  Wait,
  WaitState,
} from "./lobby-rules";
import * as rules from "./lobby-rules";
import { queueKeyOf, type Seeker } from "./pairing";
import { type StoredWait, WaitCopies, waitStoreFor } from "./wait-store";

/** A waiting socket has one owner: its attachment alias. */
const OWNER = "owner";
/** Deadlines are kept to whole seconds, so a busy lobby sets its alarm at most about once a second. */
const ALARM_GRAIN_MS = 1_000;
/**
 * How long a newcomer's answer is held when nobody fits yet: in a busy queue the next stranger
 * comes within it, and both are told in their answers (no waiting socket is opened for a wait of
 * milliseconds); in a quiet one, "waiting" comes this much later.
 */
const HOLD_MS = 250;
/** A pool remembers the leases it gave back for this many waits. */
const GIVEN_BACK_REMEMBERED = 10_000;
/** How often at most a lobby reports the pairings it made to Stats. */
const TALLY_EVERY_MS = 1_000;
/** While it holds waits, a lobby tells the stats directory it exists this often (who waits where is asked of it). */
const REGISTER_EVERY_MS = 10 * 60_000;

export type LobbyAnswer =
  | { kind: "matched"; pairing: Pairing }
  | { kind: "waiting"; seatId: string; token: string; queueKey: string; enqueuedAt: number; anyLanguage: boolean }
  /** The search ended while its answer was held: the same user searched again, left, or was banned. */
  | { kind: "gone" }
  /** The ticket's wait is over (it went silent past the window, or was matched long ago): search afresh. */
  | { kind: "over" };

/** What a lobby is, from its name: `mode/language`, `mode/language/emotion` (a split language), or the pool `mode/*`. */
export function lobbyKindOf(name: string): LobbyKind {
  const [mode, language, emotion] = name.split("/");
  if (language === "*") return { name, pool: null, splitEmotion: false };
  return { name, pool: `${mode}/*`, splitEmotion: emotion !== undefined };
}

/** The order of a queue: by enqueue time, ties broken by seat id, so every reader agrees. */
const before = (a: Wait, b: Wait) =>
  a.enqueuedAt < b.enqueuedAt || (a.enqueuedAt === b.enqueuedAt && a.seatId < b.seatId);
const ownerKey = (user: string, device: string) => `${user}\n${device}`;
const grain = (at: number) => Math.ceil(at / ALARM_GRAIN_MS) * ALARM_GRAIN_MS;

export class Lobby extends SocketObject implements LobbyView {
  readonly kind: LobbyKind;
  private readonly t: Timings;
  private readonly rules: LobbyRules;
  /** The copy of the waits, to rebuild from. None for a pool: its waits live at home, and homes vouch for them again within seconds. */
  private readonly copies: WaitCopies | null;
  private readonly waits = new Map<string, WaitState>();
  /** The waits that can be paired or asked back (waiting, lent), each feeling in queue order. Matched ones are only looked up. */
  private readonly feelings = new Map<string, string[]>();
  /** Waits held here, by owner: one per user and device. */
  private readonly owners = new Map<string, string>();
  /** Newcomers' answers held a moment (`HOLD_MS`), by their wait. */
  private readonly held = new Map<
    string,
    { resolve: (answer: LobbyAnswer) => void; timer: ReturnType<typeof setTimeout> }
  >();
  /** A pool: the lease of each wait it gave back, so a lend that overtook its recall is ignored. */
  private readonly givenBack = new Map<string, number>();
  private registeredAt = 0;
  /** Pairings made since the last report to Stats: sent in one call at most once a second, not one per pairing. */
  private tally: { pairs: number; waits: { queue: string; ms: number }[] } = { pairs: 0, waits: [] };
  private talliedAt = 0;
  /** Fresh ids for the rules. */
  private readonly fresh: Ids = {
    wait: () => ({ seatId: nanoid(20), token: nanoid(24) }),
    pairing: () => ({ sessionId: nanoid(), aliases: [nanoid(10), nanoid(10)], tokens: [nanoid(32), nanoid(32)] }),
  };

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, "lobby");
    this.kind = lobbyKindOf(ctx.id.name ?? "");
    this.t = timings(env);
    const { queueTtlMs, pollPresenceMs, heartbeatTimeoutMs, connectWindowMs } = this.t;
    this.rules = { queueTtlMs, pollPresenceMs, heartbeatTimeoutMs, connectWindowMs, widening: widening(env) };
    this.copies =
      this.kind.pool === null
        ? null
        : new WaitCopies(
            this.t,
            waitStoreFor(env, ctx.storage, this.kind.name, this.t),
            (id) => this.waits.get(id),
            (work, what) => this.background(work, what),
          );
    ctx.blockConcurrencyWhile(() => this.rebuild());
  }

  // ------------------------------------------------------------ RPC

  /**
   * `POST /api/match`: a follow-up on a wait (with its ticket) or a new search. One call,
   * answered at once: a partner, or a wait of its own. A follow-up never starts a wait: the
   * worker asks again as a new search, which is admitted like any other.
   */
  async match(seeker: Seeker, ticket: { seatId: string; token: string } | null): Promise<LobbyAnswer> {
    meter("lobby.match");
    const now = Date.now();
    if (ticket) {
      const standing = this.apply(
        rules.poll(this, ticket.seatId, ticket.token, seeker.user, this.fresh, now, this.rules),
      );
      return standing.kind === "gone" ? { kind: "over" } : this.answer(standing);
    }
    const standing = this.apply(rules.arrive(this, { seeker, ids: this.fresh, now, hold: true }, this.rules));
    if (standing.kind !== "waiting") return this.answer(standing);
    // Held a moment: a stranger who comes meanwhile is told in this answer, and nobody opens a waiting socket for a wait of milliseconds.
    return new Promise((resolve) =>
      this.held.set(standing.seatId, { resolve, timer: setTimeout(() => this.letGo(standing.seatId), HOLD_MS) }),
    );
  }

  /** From a room: this wait's partner never came; it is offered again at its place. */
  restore(seatId: string, sessionId: string): void {
    this.apply(rules.restore(this, seatId, sessionId, this.fresh, Date.now(), this.rules));
  }

  /** A pool: a home lends it a wait, or vouches again that its owner is there; the answer is the pairing made of it, if any. */
  lend(wait: Wait): Pairing | null {
    return this.apply(rules.lendIn(this, wait, this.givenBack.get(wait.seatId), this.fresh, Date.now(), this.rules));
  }

  /** A pool: a home wants its wait back (to pair it there, or because it is over). */
  recall(seatId: string, lease: number): Recalled {
    const answer = this.apply(rules.recallOut(this, seatId));
    if (answer.kind === "returned") this.givenBack.set(seatId, lease);
    // A lend overtakes its recall by moments: the oldest of these can go.
    if (this.givenBack.size > GIVEN_BACK_REMEMBERED) this.givenBack.delete(this.givenBack.keys().next().value!);
    return answer;
  }

  /** A home: the pool paired a wait lent to it. */
  deliver(seatId: string, pairing: Pairing): boolean {
    return this.apply(rules.delivered(this, seatId, pairing, Date.now(), this.rules));
  }

  /** The user found a stranger elsewhere (another queue): a wait it still holds here on this device ends. */
  withdraw(user: string, device: string): void {
    const seatId = this.owners.get(ownerKey(user, device));
    if (seatId) this.apply(rules.leave(this, [seatId], "superseded"));
  }

  /** A device was banned: its waits here end. */
  evict(device: string): void {
    const seatIds = [...this.owners].filter(([key]) => key.endsWith(`\n${device}`)).map(([, id]) => id);
    this.apply(rules.leave(this, seatIds, "banned"));
  }

  /** How many wait in each queue here, for /api/stats (waits out in a pool count at home). */
  waitingCounts(): { [queue: string]: number } {
    const counts: { [queue: string]: number } = {};
    for (const w of this.waits.values()) {
      if (w.kind === "matched" || w.home) continue;
      const queue = queueKeyOf(w.owner.criteria);
      counts[queue] = (counts[queue] ?? 0) + 1;
    }
    return counts;
  }

  // ------------------------------------------------------------ the view the rules read

  get(seatId: string): WaitState | undefined {
    return this.waits.get(seatId);
  }

  *all(): Iterable<WaitState> {
    const seen = new Set<string>();
    for (const ids of this.feelings.values()) for (const id of ids) seen.add(id);
    const open = [...seen].map((id) => this.waits.get(id)!).sort((a, b) => (before(a, b) ? -1 : 1));
    yield* open;
    for (const w of this.waits.values()) if (w.kind === "matched") yield w;
  }

  *feeling(emotion: string): Iterable<WaitState> {
    for (const id of this.feelings.get(emotion) ?? []) yield this.waits.get(id)!;
  }

  heldBy(user: string, device: string): WaitState | undefined {
    const id = this.owners.get(ownerKey(user, device));
    return id === undefined ? undefined : this.waits.get(id);
  }

  socketSeenAt(seatId: string): number | null {
    let seen: number | null = null;
    for (const ws of this.sockets(seatId, OWNER)) seen = Math.max(seen ?? 0, this.lastSeen(ws));
    return seen;
  }

  // ------------------------------------------------------------ the waiting socket

  protected unitOf(request: Request): string | null {
    return new URL(request.url).searchParams.get("seat");
  }

  protected admits(seatId: string): Admission {
    const w = this.waits.get(seatId);
    if (!w || w.home) return "unknown";
    // A socket that never says hello is closed at the alarm after the heartbeat timeout (pings alone do not keep it).
    this.background(this.schedule(grain(Date.now() + this.t.heartbeatTimeoutMs + 1), true), "alarm");
    return "open";
  }

  protected async onFrame(
    ws: WebSocket,
    seatId: string,
    frame: ParsedClientFrame,
    alias: string | null,
  ): Promise<void> {
    const w = this.waits.get(seatId);
    if (!w || w.home) return close(ws, CLOSE.ended, "wait ended");
    if (alias === null) {
      if (frame.type !== "hello")
        return this.refuse(
          ws,
          seatId,
          "invalid_frame",
          'The first frame must be {"type":"hello","token":…}.',
          CLOSE.unauthorized,
        );
      if (frame.token !== w.token) return this.refuseToken(ws, seatId);
      this.adopt(ws, OWNER, this.keepable(w));
      // A newer socket (a refresh) takes over.
      for (const other of this.sockets(seatId, OWNER))
        if (other !== ws) close(other, CLOSE.replaced, "replaced by a newer connection");
      for (const greeting of this.apply(rules.socketOpened(this, seatId, this.fresh, Date.now(), this.rules)))
        send(ws, greeting);
      if (this.waits.get(seatId)?.kind === "matched") close(ws, CLOSE.matched, "matched");
      return;
    }
    if (frame.type === "leave") return void this.apply(rules.leave(this, [seatId], "left"));
    if (frame.type !== "hello") {
      const clientId = frame.type === "message" ? frame.clientId : undefined;
      this.reject(
        ws,
        seatId,
        "not_paired",
        "You are still waiting: messages go to the chat once you are matched.",
        clientId,
      );
    }
  }

  protected async onGone(
    _ws: WebSocket,
    seatId: string,
    alias: string | null,
    _code: number,
    seenAt: number,
  ): Promise<void> {
    if (alias === OWNER) this.apply(rules.socketGone(this, seatId, seenAt));
  }

  protected ids(seatId: string) {
    return { seat: seatId };
  }

  async alarm(): Promise<void> {
    this.alarmFired();
    const now = Date.now();
    const hello = this.closeUnidentified(now, this.t.heartbeatTimeoutMs);
    this.apply(rules.alarm(this, this.fresh, now, this.rules));
    this.copies?.flush(this.waits.values(), now);
    const deadlines: number[] = hello === null ? [] : [hello];
    const report = this.reportTally(now);
    if (report !== null) deadlines.push(report);
    for (const w of this.waits.values()) {
      const at = this.deadlineOf(w, now);
      if (at !== null) deadlines.push(at);
    }
    await this.schedule(deadlines.length ? grain(Math.min(...deadlines)) : null, false);
  }

  // ------------------------------------------------------------ carrying out the rules

  /**
   * Adopts the changes, carries out the effects and moves the alarm earlier if a changed wait
   * needs it sooner. All of it synchronous (what must cross the network goes in the
   * background), so a step is atomic however many requests arrive meanwhile.
   */
  private apply<R>(step: Step<R>): R {
    const now = Date.now();
    let soonest: number | null = null;
    const ended: string[] = [];
    for (const [seatId, w] of step.changes) {
      this.replace(seatId, w);
      if (!w) ended.push(seatId);
      const at = w ? this.deadlineOf(w, now) : null;
      if (at !== null && (soonest === null || at < soonest)) soonest = at;
    }
    for (const effect of step.effects) {
      try {
        this.perform(effect);
      } catch (err) {
        log("effect.failed", { lobby: this.kind.name, effect: effect.type, error: String(err) }, "warn");
      }
    }
    // After the effects: a held wait that ended by being paired was answered by them.
    for (const seatId of ended) this.release(seatId);
    const report = this.reportTally(now);
    if (report !== null) soonest = Math.min(soonest ?? Infinity, report);
    if (soonest !== null) this.background(this.schedule(grain(soonest), true), "alarm");
    if (this.waits.size && now - this.registeredAt > REGISTER_EVERY_MS) {
      this.registeredAt = now;
      this.background(statsStub(this.env, shardOf(this.kind.name, STATS_SHARDS)).register(this.kind.name), "register");
    }
    return step.reply;
  }

  /** The next moment a wait needs this lobby, its store write included. */
  private deadlineOf(w: WaitState, now: number): number | null {
    const at = rules.nextDeadline(w, this.socketSeenAt(w.seatId), now, this.rules);
    const write = this.copies?.dueAt(w, now) ?? null;
    return write === null ? at : Math.min(at ?? Infinity, write);
  }

  private perform(e: LobbyEffect): void {
    switch (e.type) {
      case "send":
        for (const ws of this.sockets(e.seatId, OWNER)) send(ws, e.frame);
        return;
      case "close":
        for (const ws of this.sockets(e.seatId, OWNER)) close(ws, e.code, e.reason);
        return;
      case "open_room":
        this.tally.pairs += 1;
        for (const side of e.setup.sides) this.tally.waits.push({ queue: side.queueKey, ms: side.waitedMs });
        return this.background(
          retryOnce(() => roomStub(this.env, e.setup.sessionId).open(e.setup)),
          "open_room",
        );
      case "deliver":
        return this.background(lobbyStub(this.env, e.home).deliver(e.seatId, e.pairing), "deliver");
      case "lend":
        return this.background(this.lendOut(e.pool, e.wait), "lend");
      case "recall":
        return this.background(this.recallFrom(e.pool, e.seatId, e.lease, e.wanted), "recall");
      case "answer":
        return this.unhold(e.seatId)?.({ kind: "matched", pairing: e.pairing });
      case "log":
        return log(e.event, e.fields, e.level);
    }
  }

  /** Sends the pairings counted so far to Stats if the last report is a second old; else, when the next one is due (null: nothing to send). */
  private reportTally(now: number): number | null {
    if (this.tally.pairs === 0) return null;
    if (now - this.talliedAt < TALLY_EVERY_MS) return this.talliedAt + TALLY_EVERY_MS;
    const { pairs, waits } = this.tally;
    this.tally = { pairs: 0, waits: [] };
    this.talliedAt = now;
    this.background(
      statsStub(this.env, shardOf(this.kind.name, STATS_SHARDS)).record({ kind: "paired", pairs, waits }),
      "count",
    );
    return null;
  }

  /** The store says it is lent before the pool hears of it: a rebuilt lobby must never offer a wait the pool may pair. */
  private async lendOut(pool: string, wait: Wait): Promise<void> {
    const w = this.waits.get(wait.seatId);
    if (w?.kind !== "lent") return;
    if (this.copies && !this.copies.holdsLent(w.seatId)) {
      try {
        await this.copies.write(w);
      } catch (err) {
        // Not lent after all: it stays here, and the next pass tries again.
        const now = this.waits.get(w.seatId);
        if (now?.kind === "lent" && now.lease === w.lease)
          this.replace(w.seatId, { ...now, kind: "waiting" } as WaitState);
        throw err;
      }
    }
    // Paired already (at once, or a delivery that was lost): told here, once.
    const paired = await lobbyStub(this.env, pool).lend(wait);
    if (paired) this.apply(rules.delivered(this, wait.seatId, paired, Date.now(), this.rules));
  }

  private async recallFrom(pool: string, seatId: string, lease: number, wanted: boolean): Promise<void> {
    let answer: Recalled;
    try {
      answer = await lobbyStub(this.env, pool).recall(seatId, lease);
    } catch (err) {
      this.apply(rules.recallFailed(this, seatId));
      throw err;
    }
    if (wanted) this.apply(rules.recalled(this, seatId, answer, this.fresh, Date.now(), this.rules));
  }

  /** Work that crosses the network, without holding up the step that asked for it; a failure is logged. */
  private background(work: Promise<unknown>, what: string): void {
    this.ctx.waitUntil(
      work.catch((err: unknown) =>
        log("effect.failed", { lobby: this.kind.name, effect: what, error: String(err) }, "warn"),
      ),
    );
  }

  /** Puts a wait in place (or takes it away, null), keeping the order, the owner index and the store in step. */
  private replace(seatId: string, w: WaitState | null): void {
    const old = this.waits.get(seatId);
    if (old && (!w || w.kind === "matched") && old.kind !== "matched") this.unqueue(old);
    if (old && !old.home && (!w || w.home)) this.owners.delete(ownerKey(old.owner.user, old.owner.device));
    if (!w) {
      this.waits.delete(seatId);
      this.forgetUnit(seatId);
    } else {
      this.waits.set(seatId, w);
      if (w.kind !== "matched" && (!old || old.kind === "matched")) this.enqueue(w);
      if (!w.home) this.owners.set(ownerKey(w.owner.user, w.owner.device), seatId);
    }
    this.copies?.changed(old, w);
  }

  private enqueue(w: WaitState): void {
    const emotion = w.owner.criteria.emotion;
    let ids = this.feelings.get(emotion);
    if (!ids) this.feelings.set(emotion, (ids = []));
    // Arrivals come in order, so this is nearly always the end; a wait given back goes back to its place.
    let i = ids.length;
    while (i > 0 && before(w, this.waits.get(ids[i - 1])!)) i--;
    ids.splice(i, 0, w.seatId);
  }

  private unqueue(w: WaitState): void {
    const ids = this.feelings.get(w.owner.criteria.emotion);
    const i = ids?.indexOf(w.seatId) ?? -1;
    if (i >= 0) ids!.splice(i, 1);
    if (ids && ids.length === 0) this.feelings.delete(w.owner.criteria.emotion);
  }

  private answer(s: Standing): LobbyAnswer {
    if (s.kind === "gone" || s.kind === "matched") return s;
    return { ...s, token: this.waits.get(s.seatId)!.token };
  }

  /** The request held for this wait, no longer held: answer it (undefined: none is held). */
  private unhold(seatId: string): ((answer: LobbyAnswer) => void) | undefined {
    const held = this.held.get(seatId);
    if (!held) return undefined;
    this.held.delete(seatId);
    clearTimeout(held.timer);
    return held.resolve;
  }

  /** A held wait ended unpaired before its answer went out (a newer search of the same user, a leave, a ban): its request is told at once. */
  private release(seatId: string): void {
    this.unhold(seatId)?.({ kind: "gone" });
  }

  /** Nobody came while the answer was held: it goes out as "waiting", with the ticket. */
  private letGo(seatId: string): void {
    const resolve = this.unhold(seatId);
    if (resolve) resolve(this.answer(this.apply(rules.answered(this, seatId))));
  }

  // ------------------------------------------------------------ rebuilding

  /** What a waiting socket keeps of its wait, so the queue can be rebuilt from the sockets too. */
  private keepable(w: WaitState): StoredWait | undefined {
    return w.kind === "waiting" ? { ...w, polledAt: w.enqueuedAt } : undefined;
  }

  /** After an eviction or a restart: the waits the store holds, and those only a socket remembers. */
  private async rebuild(): Promise<void> {
    const found = new Map<string, StoredWait>();
    for (const w of (await this.copies?.load()) ?? []) found.set(w.seatId, w);
    for (const ws of this.ctx.getWebSockets()) {
      const { unit, alias, keep } = attachmentOf(ws);
      if (alias === OWNER && keep && !found.has(unit)) found.set(unit, keep as StoredWait);
    }
    for (const w of found.values()) this.replace(w.seatId, w);
    if (found.size) await this.schedule(grain(Date.now() + 1), true);
  }
}

async function retryOnce(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch {
    await call();
  }
}
