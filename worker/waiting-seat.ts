/**
 * WaitingSeat: one Durable Object per wait, named by its seat id. It keeps the waiter's list
 * entry, holds the waiting socket the pairing is pushed to, decides every claim on it (one at
 * a time), and expires. Its rules live in seat-rules.ts; this object applies them
 * (socket-object.ts) and carries out what they decide.
 */
import { nanoid } from "nanoid";
import { timings, widening, type Timings } from "./config";
import { log } from "./log";
import { CLOSE, type Pairing, type ParsedClientFrame } from "./protocol";
import * as rules from "./seat-rules";
import { entryOf, standingOf, type ClaimResult, type Presence, type SeatEffect, type SeatRules, type SeatState, type Seeker, type Standing } from "./seat-rules";
import { Search } from "./search";
import { SocketObject, close, send } from "./socket-object";
import { count } from "./stats";
import { roomStub } from "./stubs";
import { waitingListFor, type WaitingList } from "./waiting-list";

/** KV allows one write per second per key: a failed list write is tried once more after that. */
const LIST_RETRY_MS = 1100;
/** The waiting socket has one owner: its attachment alias. */
const OWNER = "owner";

export class WaitingSeat extends SocketObject<SeatState, SeatEffect> {
  private readonly t: Timings;
  private readonly rules: SeatRules;
  private readonly list: WaitingList;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, "seat");
    this.t = timings(env);
    const { queueTtlMs, pollAfterMs, pollPresenceMs, heartbeatTimeoutMs, connectWindowMs } = this.t;
    this.rules = { queueTtlMs, searchEveryMs: pollAfterMs, pollPresenceMs, heartbeatTimeoutMs, connectWindowMs, widening: widening(env) };
    this.list = waitingListFor(env, this.t);
  }

  // ------------------------------------------------------------ RPC

  /** A new wait: listed at once, and a first look for someone who arrived at the same instant. */
  async open(seatId: string, owner: Seeker): Promise<{ token: string; standing: Standing }> {
    if (this.state) throw new Error(`seat ${seatId} already used`);
    const token = nanoid(32);
    await this.apply(rules.open(seatId, token, owner, Date.now()));
    return { token, standing: standingOf(this.state!) };
  }

  /** The owner asks where it stands (and searches again); a poll keeps the seat offered. */
  async poll(token: string, user: string): Promise<Standing> {
    if (!this.state) return { kind: "gone" };
    const answer = await this.apply(rules.poll(this.state, token, user, Date.now(), this.presence(), this.rules));
    // Its own search may have found someone meanwhile.
    return answer.kind === "gone" ? answer : standingOf(this.state);
  }

  /** A stranger asks to take this seat. */
  async claim(stranger: Seeker): Promise<ClaimResult> {
    if (!this.state) return { ok: false, reason: "gone" };
    const ids = { sessionId: nanoid(), ownerAlias: nanoid(10), ownerToken: nanoid(32), claimerAlias: nanoid(10), claimerToken: nanoid(32) };
    return this.apply(rules.claim(this.state, stranger, ids, Date.now(), this.presence(), this.rules));
  }

  /** From the chat room: the claimer connected. True if the pairing stands. */
  async confirm(sessionId: string): Promise<boolean> {
    if (!this.state) return false;
    return this.apply(rules.confirm(this.state, sessionId, Date.now(), this.rules));
  }

  /** A new search from the same user and device replaces this wait. Both ids must match: a userId alone cancels nothing. */
  async withdraw(user: string, device: string): Promise<void> {
    const s = this.state;
    if (s && s.kind !== "ended" && s.owner.user === user && s.owner.device === device) await this.apply(rules.leave(s, "superseded"));
  }

  /** From a device record: the owner's device was banned, so its wait ends. */
  async evict(device: string): Promise<void> {
    const s = this.state;
    if (s && s.kind !== "ended" && s.owner.device === device) await this.apply(rules.leave(s, "banned"));
  }

  // ------------------------------------------------------------ the waiting socket

  protected async onFrame(ws: WebSocket, frame: ParsedClientFrame, alias: string | null): Promise<void> {
    if (!this.state) return close(ws, CLOSE.ended, "wait ended");
    if (alias === null) {
      if (frame.type !== "hello") return this.refuse(ws, "invalid_frame", 'The first frame must be {"type":"hello","token":…}.', CLOSE.unauthorized);
      if (this.state.kind === "ended" || frame.token !== this.state.token) return this.refuseToken(ws);
      this.adopt(ws, OWNER);
      // A newer socket (a refresh) takes over.
      for (const other of this.sockets(OWNER)) if (other !== ws) close(other, CLOSE.replaced, "replaced by a newer connection");
      for (const greeting of rules.greeting(this.state, Date.now(), this.rules)) send(ws, greeting);
      if (this.state.kind === "matched") return close(ws, CLOSE.matched, "matched");
      return this.apply(rules.socketOpened(this.state, Date.now(), this.presence(), this.rules));
    }
    if (frame.type === "leave") return this.apply(rules.leave(this.state, "left"));
    if (frame.type !== "hello") this.reject(ws, "not_paired", "You are still waiting: messages go to the chat once you are matched.");
  }

  protected async onGone(_ws: WebSocket, alias: string | null, _code: number, seenAt: number): Promise<void> {
    if (this.state && alias === OWNER) await this.apply(rules.socketGone(this.state, seenAt));
  }

  protected async onAlarm(state: SeatState): Promise<void> {
    await this.apply(rules.alarm(state, Date.now(), this.presence(), this.rules));
  }

  // ------------------------------------------------------------ carrying out the rules

  protected nextAlarm(state: SeatState): number | null {
    return rules.nextAlarm(state, Date.now(), this.presence(), this.rules);
  }

  protected ids() {
    return { seat: this.state?.seatId };
  }

  protected async perform(e: SeatEffect): Promise<void> {
    switch (e.type) {
      case "list.put":
        return this.bestEffort("list.put", () => this.list.put(e.entry));
      case "list.remove":
        return this.bestEffort("list.remove", () => this.list.remove(e.entry));
      case "room.open":
        try {
          return await roomStub(this.env, e.setup.sessionId).open(e.setup);
        } catch (err) {
          // No room, no claim: the seat is offered again at once, and the claimer tries the next one.
          await this.apply(rules.claimFailed(this.state!, e.setup.sessionId));
          throw err;
        }
      case "send":
        for (const ws of this.sockets(OWNER)) send(ws, e.frame);
        return;
      case "close":
        for (const ws of this.sockets(OWNER)) close(ws, e.code, e.reason);
        return;
      case "search":
        return this.search();
      case "log":
        return log(e.event, e.fields, e.level);
      case "count":
        return count(this.env, e.event, this.state!.seatId);
      case "erase":
        return this.erase();
    }
  }

  /** The owner's own search, with the seat shielded from claims while it runs. */
  private async search(): Promise<void> {
    const now = Date.now();
    const began = rules.beginSearch(this.state!, now);
    if (!began.reply) return;
    await this.apply(began);
    const s = this.state as Extract<SeatState, { kind: "waiting" }>;
    let found: Pairing | null = null;
    try {
      found = await new Search(this.env, this.t, s.owner).asWaiter(entryOf(s));
    } catch (err) {
      log("match.search_failed", { seat: s.seatId, error: String(err) }, "warn");
    }
    await this.apply(rules.endSearch(this.state!, found, Date.now(), this.rules));
  }

  /** The waiting list is an index: a failed write is retried once, then left to the next refresh or KV's own expiry. */
  private async bestEffort(what: string, write: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await write();
      } catch (err) {
        log("list.write_failed", { seat: this.state?.seatId, what, attempt, error: String(err) }, "warn");
        if (attempt === 2) return;
        await new Promise((r) => setTimeout(r, LIST_RETRY_MS));
      }
    }
  }

  private presence(): Presence {
    const seen = this.sockets(OWNER).map((ws) => this.lastSeen(ws));
    return { socketSeenAt: seen.length ? Math.max(...seen) : null };
  }
}
