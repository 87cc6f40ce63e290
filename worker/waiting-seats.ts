/**
 * WaitingSeats: the waits of many waiters, one Durable Object per shard (a seat's shard
 * follows from its id: stubs.ts). Each seat keeps its waiter's list entry, holds the waiting
 * socket the pairing is pushed to, decides every claim on it (one at a time), and expires.
 * A seat's rules live in seat-rules.ts and see only that seat; this object applies them to
 * the seat they concern (socket-object.ts) and carries out what they decide.
 *
 * Why shards rather than an object per wait: an object costs far more to create than a call
 * to a live one, and holds storage files open while it lives; a burst of arrivals would
 * create thousands. A shard is single-threaded, which is what makes each claim exact.
 */
import { nanoid } from "nanoid";
import { timings, widening, type Timings } from "./config";
import { log } from "./log";
import { meter } from "./metering";
import { CLOSE, type ParsedClientFrame } from "./protocol";
import * as rules from "./seat-rules";
import { entryOf, standingOf, type ClaimResult, type Found, type Live, type Presence, type SeatEffect, type SeatRules, type SeatState, type Seeker, type Standing } from "./seat-rules";
import { Search } from "./search";
import { SocketObject, close, send } from "./socket-object";
import { roomStub, seatStub } from "./stubs";
import { waitingListFor, type WaitingList } from "./waiting-list";

/** KV allows one write per second per key: a failed list write is tried once more after that. */
const LIST_RETRY_MS = 1100;
/** A seat's waiting socket has one owner: its attachment alias. */
const OWNER = "owner";
/** The waits one user holds on one device: a userId alone names nobody's wait. */
const heldBy = (user: string, device: string) => (s: Live) => s.owner.user === user && s.owner.device === device;

export class WaitingSeats extends SocketObject<SeatState, SeatEffect> {
  private readonly t: Timings;
  private readonly rules: SeatRules;
  private readonly list: WaitingList;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, { kind: "seat", keepsEnded: false, alarmsComeEarly: true });
    this.t = timings(env);
    const { queueTtlMs, pollAfterMs, pollPresenceMs, heartbeatTimeoutMs, connectWindowMs } = this.t;
    this.rules = { queueTtlMs, searchEveryMs: pollAfterMs, pollPresenceMs, heartbeatTimeoutMs, connectWindowMs, widening: widening(env) };
    this.list = waitingListFor(env, this.t);
  }

  // ------------------------------------------------------------ RPC

  /**
   * A new wait: listed at once, and a first look for someone who arrived at the same instant.
   * It replaces any wait the same user still holds on the same device (a request re-sent
   * without its ticket, a second tab): both ids must match, a userId alone cancels nothing.
   */
  async open(seatId: string, owner: Seeker): Promise<{ token: string; standing: Standing }> {
    if (this.units.has(seatId)) throw new Error(`seat ${seatId} already used`);
    const older = this.waitsOf(heldBy(owner.user, owner.device));
    const token = nanoid(32);
    const opened = rules.open(seatId, token, owner, Date.now(), this.rules);
    // The new seat is in place before anything is awaited, so a request that arrives meanwhile
    // replaces it in turn: the latest request of a user always stands.
    await this.apply(seatId, opened);
    await this.end(older, "superseded");
    // Its first search may have found someone; or a newer request of the same user replaced it
    // meanwhile, and this answer is the older one's: it learns so on its first poll or hello.
    const now = this.units.get(seatId);
    return { token, standing: standingOf(now ?? opened.state) };
  }

  /** The owner asks where it stands (and searches again); a poll keeps the seat offered. */
  async poll(seatId: string, token: string, user: string): Promise<Standing> {
    const seat = this.units.get(seatId);
    if (!seat) return { kind: "gone" };
    const answer = await this.apply(seatId, rules.poll(seat, token, user, Date.now(), this.presence(seatId), this.rules));
    // Its own search may have found someone meanwhile.
    return answer.kind === "gone" ? answer : this.standing(seatId);
  }

  /** A stranger asks to take this seat. */
  async claim(seatId: string, stranger: Seeker): Promise<ClaimResult> {
    const seat = this.units.get(seatId);
    if (!seat) return meter("claim.refused.gone"), { ok: false, reason: "gone" };
    const ids = { sessionId: nanoid(), ownerAlias: nanoid(10), ownerToken: nanoid(32), claimerAlias: nanoid(10), claimerToken: nanoid(32) };
    const result = await this.apply(seatId, rules.claim(seat, stranger, ids, Date.now(), this.presence(seatId), this.rules));
    meter(result.ok ? "claim.accepted" : `claim.refused.${result.reason}`);
    return result;
  }

  /** The claimer's own seat was taken while it claimed this one: the claim is given back. */
  async release(seatId: string, sessionId: string): Promise<void> {
    const seat = this.units.get(seatId);
    if (seat) await this.apply(seatId, rules.release(seat, sessionId));
  }

  /** From the chat room: the claimer connected. True if the pairing stands. */
  async confirm(seatId: string, sessionId: string): Promise<boolean> {
    const seat = this.units.get(seatId);
    if (!seat) return false;
    return this.apply(seatId, rules.confirm(seat, sessionId, Date.now(), this.rules));
  }

  /** The user found a stranger as a newcomer: a wait it still holds on this device ends. */
  async withdraw(user: string, device: string): Promise<void> {
    await this.end(this.waitsOf(heldBy(user, device)), "superseded");
  }

  /** From a device record: the device was banned, so its waits end (they all live in this shard). */
  async evict(device: string): Promise<void> {
    await this.end(this.waitsOf((s) => s.owner.device === device), "banned");
  }

  /** How many wait in each queue here, for /api/stats (waits being claimed count as waiting). */
  waitingCounts(): { [queue: string]: number } {
    const counts: { [queue: string]: number } = {};
    for (const s of this.units.values()) {
      if (s.kind !== "waiting" && s.kind !== "claimed") continue;
      const queue = rules.queueKeyOfSeat(s);
      counts[queue] = (counts[queue] ?? 0) + 1;
    }
    return counts;
  }

  private waitsOf(whose: (s: Live) => boolean): string[] {
    return [...this.units].filter(([, s]) => s.kind !== "ended" && whose(s)).map(([id]) => id);
  }

  /** Ends these waits, each as it is by then (ending one awaits, and calls run meanwhile). */
  private async end(seatIds: string[], reason: "superseded" | "banned"): Promise<void> {
    for (const id of seatIds) {
      const s = this.units.get(id);
      if (s && s.kind !== "ended") await this.apply(id, rules.leave(s, reason));
    }
  }

  private standing(seatId: string): Standing {
    const seat = this.units.get(seatId);
    return seat ? standingOf(seat) : { kind: "gone" };
  }

  // ------------------------------------------------------------ the waiting socket

  protected unitOf(request: Request): string | null {
    return new URL(request.url).searchParams.get("seat");
  }

  protected async onFrame(ws: WebSocket, seatId: string, frame: ParsedClientFrame, alias: string | null): Promise<void> {
    const seat = this.units.get(seatId);
    if (!seat) return close(ws, CLOSE.ended, "wait ended");
    if (alias === null) {
      if (frame.type !== "hello") return this.refuse(ws, seatId, "invalid_frame", 'The first frame must be {"type":"hello","token":…}.', CLOSE.unauthorized);
      if (seat.kind === "ended" || frame.token !== seat.token) return this.refuseToken(ws, seatId);
      this.adopt(ws, OWNER);
      // A newer socket (a refresh) takes over.
      for (const other of this.sockets(seatId, OWNER)) if (other !== ws) close(other, CLOSE.replaced, "replaced by a newer connection");
      for (const greeting of rules.greeting(seat, Date.now(), this.rules)) send(ws, greeting);
      if (seat.kind === "matched") return close(ws, CLOSE.matched, "matched");
      return this.apply(seatId, rules.socketOpened(seat, Date.now(), this.presence(seatId), this.rules));
    }
    if (frame.type === "leave") return this.apply(seatId, rules.leave(seat, "left"));
    if (frame.type !== "hello") this.reject(ws, seatId, "not_paired", "You are still waiting: messages go to the chat once you are matched.");
  }

  protected async onGone(_ws: WebSocket, seatId: string, alias: string | null, _code: number, seenAt: number): Promise<void> {
    const seat = this.units.get(seatId);
    if (seat && alias === OWNER) await this.apply(seatId, rules.socketGone(seat, seenAt));
  }

  protected async onAlarm(seatId: string, seat: SeatState): Promise<void> {
    await this.apply(seatId, rules.alarm(seat, Date.now(), this.presence(seatId), this.rules));
  }

  // ------------------------------------------------------------ carrying out the rules

  protected nextAlarm(seatId: string, seat: SeatState): number | null {
    return rules.nextAlarm(seat, Date.now(), this.presence(seatId), this.rules);
  }

  protected ids(seatId: string) {
    return { seat: seatId };
  }

  protected async perform(seatId: string, e: SeatEffect): Promise<void> {
    switch (e.type) {
      case "list.put":
      case "list.remove":
        return this.bestEffort(seatId, e);
      case "room.open":
        try {
          return await roomStub(this.env, e.setup.sessionId).open(e.setup);
        } catch (err) {
          // No room, no claim: the seat is offered again at once, and the claimer tries the next one.
          const seat = this.units.get(seatId);
          if (seat) await this.apply(seatId, rules.claimFailed(seat, e.setup.sessionId));
          throw err;
        }
      case "send":
        for (const ws of this.sockets(seatId, OWNER)) send(ws, e.frame);
        return;
      case "close":
        for (const ws of this.sockets(seatId, OWNER)) close(ws, e.code, e.reason);
        return;
      case "release":
        return this.giveBack(e.seatId, e.sessionId);
      case "search":
        return this.search(seatId);
      case "log":
        return log(e.event, e.fields, e.level);
      case "erase":
        return this.erase(seatId);
    }
  }

  /** The owner's own search, one at a time. */
  private async search(seatId: string): Promise<void> {
    const seat = this.units.get(seatId);
    if (!seat) return;
    const began = rules.beginSearch(seat, Date.now());
    if (!began.reply) return;
    await this.apply(seatId, began);
    const s = began.state as Extract<SeatState, { kind: "waiting" }>;
    let found: Found | null = null;
    try {
      found = await new Search(this.env, this.t, s.owner).asWaiter(entryOf(s));
    } catch (err) {
      log("match.search_failed", { seat: seatId, error: String(err) }, "warn");
    }
    // The seat may have been taken or ended meanwhile: endSearch gives back what it found.
    const now = this.units.get(seatId);
    if (now) await this.apply(seatId, rules.endSearch(now, found, Date.now(), this.rules));
    else if (found) await this.giveBack(found.seatId, found.pairing.sessionId);
  }

  /** A claim this seat no longer wants goes back; if that call fails, the claim lapses on its own within the connect window. */
  private async giveBack(seatId: string, sessionId: string): Promise<void> {
    await seatStub(this.env, seatId)
      .release(seatId, sessionId)
      .catch((err: unknown) => log("match.claim_failed", { seat: seatId, error: String(err) }, "warn"));
  }

  /**
   * The waiting list is an index: a failed write (KV allows one per second per key) is retried
   * once a moment later, without holding up the claim or pairing it belongs to, then left to
   * the next refresh or KV's own expiry. The retry happens only if the seat still wants it: a
   * late put must not list a seat taken meanwhile, nor a late remove unlist one given back.
   */
  private async bestEffort(seatId: string, e: Extract<SeatEffect, { type: "list.put" | "list.remove" }>): Promise<void> {
    const write = () => (e.type === "list.put" ? this.list.put(e.entry) : this.list.remove(e.entry));
    const stillWanted = () => (this.units.get(seatId)?.kind === "waiting") === (e.type === "list.put");
    try {
      await write();
    } catch (err) {
      log("list.write_failed", { seat: seatId, what: e.type, attempt: 1, error: String(err) }, "warn");
      void new Promise((r) => setTimeout(r, LIST_RETRY_MS))
        .then(() => (stillWanted() ? write() : undefined))
        .catch((again) => log("list.write_failed", { seat: seatId, what: e.type, attempt: 2, error: String(again) }, "warn"));
    }
  }

  private presence(seatId: string): Presence {
    const seen = this.sockets(seatId, OWNER).map((ws) => this.lastSeen(ws));
    return { socketSeenAt: seen.length ? Math.max(...seen) : null };
  }
}
