/**
 * The rules of a lobby, as pure functions: who is paired with whom, and what becomes of each
 * wait. A lobby is the one authority over a queue (one mode and language, or one feeling of a
 * split language); every pairing of its waits is decided here, in one step, on the lobby's
 * single thread. The Lobby object (lobby.ts) gives these functions a view of its waits, applies
 * the changes they return and carries out their effects; nothing here reads a clock, storage
 * or the network.
 *
 *   newcomer ──a present stranger fits──▶ paired at once (both told, the room opened alongside)
 *      └──nobody fits──▶ waiting ──a newcomer, or a pass: presence back, a threshold passed──▶ matched
 *   waiting ──its search reaches past this lobby (another language, another feeling of a split one)──▶ lent to the pool
 *   lent ──the pool pairs it──▶ matched        lent ──wanted back here, or over──▶ recalled
 *   matched ──its partner never came (the room says so)──▶ waiting again, at its place
 *   any ──leave, a newer search, a ban, silence for the whole window──▶ gone
 *
 * A pool (`mode/*`) is a lobby too: it holds only waits lent to it by the lobbies of that mode,
 * whose owners' sockets stay at home; it tells a home when it paired one (`deliver`).
 */

import {
  CLOSE,
  type CloseReason,
  type Pairing,
  PROTOCOL_VERSION,
  type Relaxed,
  type ServerFrame,
} from "@strangers/protocol";
import type { LogFields } from "../platform/log";
import type { RoomSetup } from "../room/rules";
import { compatible, type PairIds, type Party, pair, queueKeyOf, type Seeker, sharedInterests } from "./pairing";
import { relaxationBetween, type WideningSettings, wideningIn } from "./widening";

// ---------------------------------------------------------------- waits

export type Wait = {
  seatId: string;
  /** The secret half of the ticket: polls and the waiting socket's hello must show it. */
  token: string;
  owner: Seeker;
  /** Its place in the queue: when the owner started looking. */
  enqueuedAt: number;
  /** The owner's last poll (or the request that opened the wait). */
  polledAt: number;
  /**
   * A wait lent in from another lobby: the lobby that holds its owner's socket and ticket, and
   * until when that lobby last vouched the owner was there. Null for a wait held here.
   */
  home: { lobby: string; presentUntil: number } | null;
  /**
   * Counts the times the home lent it out. A recall names the lease it ends, and the pool
   * ignores a lend of a lease it already gave back (a late vouch must not lend it twice).
   */
  lease: number;
  /**
   * The newcomer's request that opened it is still being answered (held a moment, in case a
   * stranger comes): a pairing is told in that answer, as to a newcomer paired at once, and the
   * wait is gone with it. Its owner has no ticket yet.
   */
  held?: true;
};

export type WaitState =
  | (Wait & { kind: "waiting" })
  /** Offered in the pool for a wider search: the pool decides its pairing. `recalling`: asked back. */
  | (Wait & { kind: "lent"; pool: string; recalling: boolean; lentAt: number })
  /** Told where its chat is; kept while the owner may still join, so a poll finds it and a no-show can give it back. */
  | (Wait & { kind: "matched"; pairing: Pairing; until: number });

/** What a lobby is: its name, the pool its waits are lent to for a wider search, and whether it holds one feeling only (a split language). */
export type LobbyKind = { name: string; pool: string | null; splitEmotion: boolean };

export type LobbyRules = {
  queueTtlMs: number;
  pollPresenceMs: number;
  heartbeatTimeoutMs: number;
  connectWindowMs: number;
  widening: WideningSettings;
};

/** What the rules may read of a lobby. */
export interface LobbyView {
  readonly kind: LobbyKind;
  get(seatId: string): WaitState | undefined;
  /** Every wait, oldest first. */
  all(): Iterable<WaitState>;
  /** The waits of one feeling, oldest first. */
  feeling(emotion: string): Iterable<WaitState>;
  heldBy(user: string, device: string): WaitState | undefined;
  /** The newest sign of life of the wait's open waiting sockets (a ping, a frame, the connection), or null. */
  socketSeenAt(seatId: string): number | null;
}

// ---------------------------------------------------------------- steps

export type LobbyEffect =
  /** To the wait's own sockets. */
  | { type: "send"; seatId: string; frame: ServerFrame }
  | { type: "close"; seatId: string; code: number; reason: string }
  /** Open the pairing's room; nobody waits for it (the room answers a connection that comes first once it is open). */
  | { type: "open_room"; setup: RoomSetup }
  /** A wait lent in was paired here: its home tells the owner. */
  | { type: "deliver"; home: string; seatId: string; pairing: Pairing }
  /** Offer this wait in the pool (the stored copy says so first); also how a home vouches again that the owner is there. */
  | { type: "lend"; pool: string; wait: Wait }
  /** The held request that opened this wait is answered with its pairing. */
  | { type: "answer"; seatId: string; pairing: Pairing }
  /** Ask the pool for the wait back: `wanted` to pair it here, or not, because it is over. */
  | { type: "recall"; pool: string; seatId: string; lease: number; wanted: boolean }
  | { type: "log"; event: string; fields: LogFields; level?: "info" | "warn" };

/** The waits that changed (null: gone), what to do about it, and the answer for whoever asked. */
export type Step<R = undefined> = { changes: Map<string, WaitState | null>; effects: LobbyEffect[]; reply: R };

/** Fresh ids, supplied by the object (random there, counted in tests) so these functions stay pure. */
export type Ids = {
  wait(): { seatId: string; token: string };
  pairing(): PairIds;
};

export type Standing =
  | { kind: "waiting"; seatId: string; queueKey: string; enqueuedAt: number; anyLanguage: boolean }
  | { kind: "matched"; pairing: Pairing }
  | { kind: "gone" };

/**
 * A step under construction: reads see the changes made so far, so one step can pair several
 * waits without pairing anyone twice.
 */
class Draft {
  readonly changes = new Map<string, WaitState | null>();
  readonly effects: LobbyEffect[] = [];

  constructor(readonly view: LobbyView) {}

  get(seatId: string): WaitState | undefined {
    const changed = this.changes.get(seatId);
    return changed === null ? undefined : (changed ?? this.view.get(seatId));
  }

  /** Current versions of the waits a view iterator yields (skipping those gone meanwhile). */
  *current(waits: Iterable<WaitState>): Iterable<WaitState> {
    for (const w of waits) {
      const now = this.get(w.seatId);
      if (now) yield now;
    }
  }

  set(w: WaitState): void {
    this.changes.set(w.seatId, w);
  }

  drop(seatId: string): void {
    this.changes.set(seatId, null);
  }

  done<R>(reply: R): Step<R> {
    return { changes: this.changes, effects: this.effects, reply };
  }
}

// ---------------------------------------------------------------- presence

/** Until when the owner counts as there: a live waiting socket (pings answered by the runtime), a recent poll, or the home's word. */
export function presentUntil(w: Wait, socketSeenAt: number | null, r: LobbyRules): number {
  if (w.home) return w.home.presentUntil;
  return Math.max(w.polledAt + r.pollPresenceMs, socketSeenAt === null ? 0 : socketSeenAt + r.heartbeatTimeoutMs);
}

/** The owner's newest sign of life: the wait window runs from it. */
const lastSign = (w: Wait, socketSeenAt: number | null): number => Math.max(w.polledAt, socketSeenAt ?? 0);

const present = (d: Draft, w: Wait, now: number, r: LobbyRules) =>
  now <= presentUntil(w, d.view.socketSeenAt(w.seatId), r);

// ---------------------------------------------------------------- pairing

type Candidate = { wait: WaitState; relaxed: Relaxed[]; shared: number };

/** Strangers weighed per decision, and waits looked at in all, however long the queue: a decision costs the same at any length. */
const WEIGH = 64;
const LOOK_AT = 256;

/**
 * The best stranger for someone who has waited since `since`: the fewest criteria relaxed
 * (exact first), then the most interests in common, then the longest waiting. Only present
 * owners; a lent wait may win too (the caller asks for it back).
 */
function bestFor(
  d: Draft,
  me: Seeker,
  since: number,
  self: string | null,
  now: number,
  r: LobbyRules,
): Candidate | null {
  const mine = { ...me.criteria, enqueuedAt: since, anyLanguage: me.anyLanguage };
  // Before any threshold (a newcomer, above all) only an exact match is possible: only its own feeling is looked at.
  const exactOnly = now - since < Math.min(r.widening.emotionAfterMs, r.widening.languageAfterMs);
  const pool = exactOnly ? d.view.feeling(me.criteria.emotion) : d.view.all();
  let best: Candidate | null = null;
  let weighed = 0;
  let looked = 0;
  for (const w of d.current(pool)) {
    if (++looked > LOOK_AT) break;
    if (w.seatId === self || w.kind === "matched" || (w.kind === "lent" && w.recalling)) continue;
    if (!compatible(me, w.owner) || !present(d, w, now, r)) continue;
    const relaxed = relaxationBetween(
      mine,
      { ...w.owner.criteria, enqueuedAt: w.enqueuedAt, anyLanguage: w.owner.anyLanguage },
      now,
      r.widening,
    );
    if (!relaxed) continue;
    const c = { wait: w, relaxed, shared: sharedInterests(me.interests, w.owner.interests).length };
    // Iterated oldest first, so a later candidate wins only by relaxing less or sharing more.
    if (
      !best ||
      c.relaxed.length < best.relaxed.length ||
      (c.relaxed.length === best.relaxed.length && c.shared > best.shared)
    )
      best = c;
    if (++weighed >= WEIGH) break;
  }
  return best;
}

/** One of a pairing; a wait still being answered has no wait to go back to (its owner never had a ticket). */
const partyOf = (lobby: string, w: Wait): Party => ({
  seeker: w.owner,
  enqueuedAt: w.enqueuedAt,
  returnTo: w.held ? null : { lobby: w.home?.lobby ?? lobby, seatId: w.seatId },
});

/** A wait is told its pairing: in the answer still held for it, on its sockets, or through its home if lent in. */
function tell(d: Draft, w: WaitState, pairing: Pairing, now: number, r: LobbyRules): void {
  if (w.held) {
    d.drop(w.seatId);
    d.effects.push({ type: "answer", seatId: w.seatId, pairing });
    return;
  }
  d.set({ ...strip(w), kind: "matched", pairing, until: now + 2 * r.connectWindowMs });
  if (w.home) d.effects.push({ type: "deliver", home: w.home.lobby, seatId: w.seatId, pairing });
  else
    d.effects.push(
      { type: "send", seatId: w.seatId, frame: { type: "matched", ...pairing } },
      { type: "close", seatId: w.seatId, code: CLOSE.matched, reason: "matched" },
    );
}

/** A wait's own facts, without what its state adds. */
function strip(w: WaitState): Wait {
  const { seatId, token, owner, enqueuedAt, polledAt, home, lease, held } = w;
  return { seatId, token, owner, enqueuedAt, polledAt, home, lease, ...(held ? { held } : {}) };
}

/**
 * The wait `seatId` looks for a stranger here: the best one is paired with it at once; a lent
 * one is asked back (the pass runs again when it returns); with nobody, a wait whose search now
 * reaches past this lobby is lent to the pool.
 */
function pass(d: Draft, seatId: string, ids: Ids, now: number, r: LobbyRules): void {
  const w = d.get(seatId);
  if (w?.kind !== "waiting" || !present(d, w, now, r)) return;
  const best = bestFor(d, w.owner, w.enqueuedAt, seatId, now, r);
  if (best?.wait.kind === "lent") {
    d.set({ ...best.wait, recalling: true });
    d.effects.push({
      type: "recall",
      pool: best.wait.pool,
      seatId: best.wait.seatId,
      lease: best.wait.lease,
      wanted: true,
    });
    return;
  }
  if (best) {
    const lobby = d.view.kind.name;
    const { forA, forB, setup } = pair(partyOf(lobby, w), partyOf(lobby, best.wait), best.relaxed, ids.pairing(), now);
    tell(d, w, forA, now, r);
    tell(d, best.wait, forB, now, r);
    d.effects.push({ type: "open_room", setup });
    return;
  }
  const { pool } = d.view.kind;
  if (pool && !w.home && reachesPast(d.view.kind, w, now, r)) {
    const lent: WaitState = { ...w, kind: "lent", pool, recalling: false, lentAt: now, lease: w.lease + 1 };
    d.set(lent);
    d.effects.push({ type: "lend", pool, wait: vouched(d, lent, r) });
  }
}

/** Whether a wait's search now reaches past this lobby: another feeling (a split lobby holds one), or another language. */
function reachesPast(kind: LobbyKind, w: Wait, now: number, r: LobbyRules): boolean {
  const waited = now - w.enqueuedAt;
  return (
    (kind.splitEmotion && waited >= r.widening.emotionAfterMs) ||
    (w.owner.anyLanguage && waited >= r.widening.languageAfterMs)
  );
}

/** The wait as lent: with this lobby as its home, vouching for its owner until presence would lapse. */
const vouched = (d: Draft, w: Wait, r: LobbyRules): Wait => ({
  ...strip({ ...w, kind: "waiting" }),
  home: { lobby: d.view.kind.name, presentUntil: presentUntil(w, d.view.socketSeenAt(w.seatId), r) },
});

/** Every wait that could pair now looks, oldest first (a pass never makes another wait able to pair, so one round is enough). */
function passAll(d: Draft, ids: Ids, now: number, r: LobbyRules): void {
  for (const w of [...d.view.all()]) pass(d, w.seatId, ids, now, r);
}

// ---------------------------------------------------------------- events

/** `hold`: the newcomer's answer will be held a moment, so a stranger who comes meanwhile is told in it. */
export type Arrival = { seeker: Seeker; ids: Ids; now: number; hold: boolean };

/**
 * A newcomer asks (no ticket, or a stale one). A present stranger of its exact queue is paired
 * with it at once; otherwise it waits here. Either way a wait of the same user on the same
 * device ends: one search per person.
 */
export function arrive(view: LobbyView, { seeker, ids, now, hold }: Arrival, r: LobbyRules): Step<Standing> {
  const d = new Draft(view);
  const older = view.heldBy(seeker.user, seeker.device);
  if (older) end(d, older, "superseded");
  const best = bestFor(d, seeker, now, null, now, r);
  if (best && best.wait.kind === "waiting") {
    const newcomer: Party = { seeker, enqueuedAt: now, returnTo: null };
    const { forA, forB, setup } = pair(newcomer, partyOf(view.kind.name, best.wait), best.relaxed, ids.pairing(), now);
    tell(d, best.wait, forB, now, r);
    d.effects.push({ type: "open_room", setup });
    return d.done({ kind: "matched", pairing: forA });
  }
  const { seatId, token } = ids.wait();
  const wait: WaitState = {
    kind: "waiting",
    seatId,
    token,
    owner: seeker,
    enqueuedAt: now,
    polledAt: now,
    home: null,
    lease: 0,
    ...(hold ? { held: true as const } : {}),
  };
  d.set(wait);
  // Its only stranger is out in the pool: asked back, and paired with this one when it returns.
  if (best) pass(d, seatId, ids, now, r);
  return d.done(standingOf(d.get(seatId)!));
}

/** The held answer went out as "waiting" (nobody came): from now on the owner has its ticket, and hears on its socket or a poll. */
export function answered(view: LobbyView, seatId: string): Step<Standing> {
  const d = new Draft(view);
  const w = view.get(seatId);
  if (!w) return d.done({ kind: "gone" });
  if (w.held) {
    const { held: _, ...told } = w;
    d.set(told as WaitState);
  }
  return d.done(standingOf(d.get(seatId)!));
}

/** The owner asks where it stands (the ticket's token and userId must match). A poll is a sign of life: it looks again. */
export function poll(
  view: LobbyView,
  seatId: string,
  token: string,
  user: string,
  ids: Ids,
  now: number,
  r: LobbyRules,
): Step<Standing> {
  const d = new Draft(view);
  const w = view.get(seatId);
  if (!w || w.home || w.token !== token || w.owner.user !== user) return d.done({ kind: "gone" });
  d.set({ ...w, polledAt: now });
  pass(d, seatId, ids, now, r);
  return d.done(standingOf(d.get(seatId)!));
}

/** The owner's waiting socket said hello with the right token: what it is told, and it looks again. */
export function socketOpened(
  view: LobbyView,
  seatId: string,
  ids: Ids,
  now: number,
  r: LobbyRules,
): Step<ServerFrame[]> {
  const d = new Draft(view);
  const w = view.get(seatId);
  if (!w) return d.done([{ type: "closed", reason: "expired" }]);
  pass(d, seatId, ids, now, r);
  return d.done(greeting(d.get(seatId)!, now, r));
}

/** What a (re)connecting waiting socket is told first. */
export function greeting(w: WaitState, now: number, r: LobbyRules): ServerFrame[] {
  if (w.kind === "matched") return [{ type: "matched", ...w.pairing }];
  const { criteria, anyLanguage } = w.owner;
  return [
    {
      type: "waiting",
      v: PROTOCOL_VERSION,
      queueKey: queueKeyOf(criteria),
      widening: wideningIn(r.widening, w.enqueuedAt, anyLanguage, now),
    },
  ];
}

/** A waiting socket closed: the wait window runs on from its last sign of life. */
export function socketGone(view: LobbyView, seatId: string, seenAt: number): Step {
  const d = new Draft(view);
  const w = view.get(seatId);
  if (w && w.kind !== "matched" && seenAt > w.polledAt) d.set({ ...w, polledAt: seenAt });
  return d.done(undefined);
}

export type EndReason = "left" | "superseded" | "banned";

/** The owner leaves (Cancel, Stop) or was banned; a newer search of theirs supersedes it. */
export function leave(view: LobbyView, seatIds: string[], reason: EndReason): Step {
  const d = new Draft(view);
  for (const id of seatIds) {
    const w = view.get(id);
    if (w && !w.home) end(d, w, reason);
  }
  return d.done(undefined);
}

function end(d: Draft, w: WaitState, reason: CloseReason): void {
  d.drop(w.seatId);
  if (w.kind === "lent")
    d.effects.push({ type: "recall", pool: w.pool, seatId: w.seatId, lease: w.lease, wanted: false });
  if (w.kind === "matched") return;
  d.effects.push(
    { type: "send", seatId: w.seatId, frame: { type: "closed", reason } },
    { type: "close", seatId: w.seatId, code: CLOSE.ended, reason: `wait ended: ${reason}` },
  );
}

/**
 * The room says this wait's partner never came: the wait is offered again at its original
 * place (its owner was told to come back to it), and looks at once.
 */
export function restore(
  view: LobbyView,
  seatId: string,
  sessionId: string,
  ids: Ids,
  now: number,
  r: LobbyRules,
): Step {
  const d = new Draft(view);
  const w = view.get(seatId);
  if (w?.kind !== "matched" || w.pairing.sessionId !== sessionId) return d.done(undefined);
  // Back from the chat: it counts as a sign of life, so the owner has time to reconnect.
  d.set({ ...strip(w), kind: "waiting", polledAt: now });
  d.effects.push({ type: "log", event: "match.restored", fields: { seat: seatId, sessionId } });
  pass(d, seatId, ids, now, r);
  return d.done(undefined);
}

// ---------------------------------------------------------------- the pool

/**
 * A home lends a wait (or vouches for it again): the pool holds it, and it looks at once. A
 * lend of a lease already given back (it overtook its own recall) is ignored. The answer is the
 * pairing the pool made of it, if it made one: a home whose delivery was lost learns it so.
 */
export function lendIn(
  view: LobbyView,
  wait: Wait,
  givenBack: number | undefined,
  ids: Ids,
  now: number,
  r: LobbyRules,
): Step<Pairing | null> {
  const d = new Draft(view);
  const held = view.get(wait.seatId);
  if (held?.kind === "matched") return d.done(held.pairing);
  if (givenBack !== undefined && wait.lease <= givenBack) return d.done(null);
  d.set({ ...wait, kind: "waiting" });
  pass(d, wait.seatId, ids, now, r);
  const after = d.get(wait.seatId);
  return d.done(after?.kind === "matched" ? after.pairing : null);
}

export type Recalled = { kind: "returned" } | { kind: "paired"; pairing: Pairing } | { kind: "unknown" };

/** A home wants its wait back: it leaves the pool, unless the pool paired it already. */
export function recallOut(view: LobbyView, seatId: string): Step<Recalled> {
  const d = new Draft(view);
  const w = view.get(seatId);
  if (!w) return d.done({ kind: "unknown" });
  if (w.kind === "matched") return d.done({ kind: "paired", pairing: w.pairing });
  d.drop(seatId);
  return d.done({ kind: "returned" });
}

/** The pool's answer to a recall, at home. Back here: it looks again (whoever wanted it is still looking). */
export function recalled(
  view: LobbyView,
  seatId: string,
  answer: Recalled,
  ids: Ids,
  now: number,
  r: LobbyRules,
): Step {
  if (answer.kind === "paired") return { ...delivered(view, seatId, answer.pairing, now, r), reply: undefined };
  const d = new Draft(view);
  const w = view.get(seatId);
  if (w?.kind !== "lent") return d.done(undefined);
  d.set({ ...strip(w), kind: "waiting" });
  passAll(d, ids, now, r);
  return d.done(undefined);
}

/** The pool could not be asked: the wait stays lent, and may be asked back (or vouched for) again. */
export function recallFailed(view: LobbyView, seatId: string): Step {
  const d = new Draft(view);
  const w = view.get(seatId);
  if (w?.kind === "lent" && w.recalling) d.set({ ...w, recalling: false });
  return d.done(undefined);
}

/** The pool paired a wait this lobby lent it: the owner is told. False when the wait is no longer lent (it ended meanwhile). */
export function delivered(
  view: LobbyView,
  seatId: string,
  pairing: Pairing,
  now: number,
  r: LobbyRules,
): Step<boolean> {
  const d = new Draft(view);
  const w = view.get(seatId);
  if (w?.kind === "matched" && w.pairing.sessionId === pairing.sessionId) return d.done(true);
  if (w?.kind !== "lent") return d.done(false);
  tell(d, w, pairing, now, r);
  return d.done(true);
}

// ---------------------------------------------------------------- time

/**
 * Alarms run at least once, at `nextAlarm` or later; every branch is safe to repeat. Waits
 * silent for the whole window end; matched waits are forgotten once their owner could no
 * longer join; a home vouches again for lent waits whose owners are still there; then every
 * wait looks again (a threshold may have passed, or an owner come back).
 */
export function alarm(view: LobbyView, ids: Ids, now: number, r: LobbyRules): Step {
  const d = new Draft(view);
  for (const w of view.all()) {
    const seen = view.socketSeenAt(w.seatId);
    if (w.kind === "matched") {
      if (now >= w.until) d.drop(w.seatId);
    } else if (w.home) {
      // Lent in: the home vouches for it while its owner is there; unvouched, it is not offered, and after a window it is forgotten.
      if (now >= w.home.presentUntil + r.queueTtlMs) d.drop(w.seatId);
    } else if (now >= lastSign(w, seen) + r.queueTtlMs) {
      end(d, w, "expired");
      d.effects.push({
        type: "log",
        event: "match.expired",
        fields: { seat: w.seatId, queue: queueKeyOf(w.owner.criteria), waitedMs: now - w.enqueuedAt },
      });
    } else if (w.kind === "lent" && !w.recalling && present(d, w, now, r) && now >= vouchDue(w, r)) {
      const again = { ...w, lentAt: now };
      d.set(again);
      d.effects.push({ type: "lend", pool: w.pool, wait: vouched(d, again, r) });
    }
  }
  passAll(d, ids, now, r);
  return d.done(undefined);
}

/**
 * A home vouches again half a heartbeat timeout after it last did: its word lasts a whole one
 * past the owner's last sign of life, so the pool never stops offering an owner who is there.
 */
const vouchDue = (w: Extract<WaitState, { kind: "lent" }>, r: LobbyRules) => w.lentAt + r.heartbeatTimeoutMs / 2;

/** The next moment a wait needs the lobby: expiry, a widening threshold, vouching again, forgetting. Never in the past. */
export function nextDeadline(w: WaitState, socketSeenAt: number | null, now: number, r: LobbyRules): number | null {
  if (w.kind === "matched") return w.until;
  if (w.home) return w.home.presentUntil + r.queueTtlMs;
  const deadlines = [lastSign(w, socketSeenAt) + r.queueTtlMs];
  const { emotionAfterMs, languageAfterMs } = r.widening;
  for (const after of [emotionAfterMs, ...(w.owner.anyLanguage ? [languageAfterMs] : [])])
    if (w.enqueuedAt + after > now) deadlines.push(w.enqueuedAt + after);
  if (w.kind === "lent" && !w.recalling) deadlines.push(vouchDue(w, r));
  return Math.max(now + 1, Math.min(...deadlines));
}

export function standingOf(w: WaitState): Standing {
  if (w.kind === "matched") return { kind: "matched", pairing: w.pairing };
  return {
    kind: "waiting",
    seatId: w.seatId,
    queueKey: queueKeyOf(w.owner.criteria),
    enqueuedAt: w.enqueuedAt,
    anyLanguage: w.owner.anyLanguage,
  };
}
