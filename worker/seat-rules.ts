/**
 * The rules of a waiting seat, as pure functions: `(state, event, now, …) → { state, effects }`.
 * A seat is one person's wait. It is listed for seekers, offered only while its owner is
 * present (an open waiting socket, or a recent poll), claimed at most once at a time (and
 * taken off the list meanwhile, so other seekers do not queue up behind a claim), and given
 * away for good only when the claimer actually connects to the chat: a claimer who never
 * shows up hands the seat back, listed again at its original place in the queue.
 *
 *   waiting ──claim──▶ claimed ──confirm──▶ matched ──(connect window)──▶ ended
 *      ▲                  │ window lapses
 *      └──────────────────┘
 *   waiting ──its own search finds an older seat──▶ matched
 *   any ──leave / expiry──▶ ended
 *
 * WaitingSeats (waiting-seats.ts) loads the state, applies these functions, saves, and carries
 * out the effects. Nothing here reads a clock, storage or the network.
 */
import type { CloseReason, Pairing, ServerFrame } from "./protocol";
import { CHAT_PATH, CLOSE, PROTOCOL_VERSION, socketUrl } from "./protocol";
import { queueKeyOf, sharedInterests } from "./queue-entry";
import type { RoomSetup } from "./room-rules";
import { SEARCH_TIMEOUT_MS, entryOf, isPresent, lastSign, queueKeyOfSeat, standingOf } from "./seat-state";
import type { ClaimIds, ClaimRefusal, ClaimResult, Found, Live, Presence, SeatEffect, SeatRules, SeatState, Seeker, Standing, Step } from "./seat-state";
import { relaxationBetween, wideningIn } from "./widening";

export * from "./seat-state";

const step = <R>(state: SeatState, effects: SeatEffect[], reply: R): Step<R> => ({ state, effects, reply });

/**
 * Two people who arrive at the same instant both miss each other's seat: the later one finds
 * the earlier when it first looks, this long after opening. Not at once: most seats are taken
 * by a newcomer within that time (in a burst, nearly all), and a look costs a read of the list.
 */
export const FIRST_LOOK_MS = 1_000;

export function open(seatId: string, token: string, owner: Seeker, now: number, r: SeatRules): Step {
  // As if it had last looked so long ago that the next look is due FIRST_LOOK_MS from now.
  const searchedAt = now + FIRST_LOOK_MS - r.searchEveryMs;
  const state: SeatState = { kind: "waiting", seatId, token, owner, polledAt: now, listedSeenAt: now, searchedAt, searchingUntil: null };
  const queue = queueKeyOf(owner.criteria);
  return step(
    state,
    [
      { type: "list.put", entry: entryOf(state) },
      { type: "log", event: "match.enqueued", fields: { seat: seatId, queue } },
    ],
    undefined,
  );
}

/** The owner asks where it stands. A poll is a sign of life, and a waiting owner searches too. */
export function poll(s: SeatState, token: string, user: string, now: number, p: Presence, r: SeatRules): Step<Standing> {
  if (s.kind === "ended" || s.token !== token || s.owner.user !== user) return step(s, [], { kind: "gone" });
  const polled = ownerBack({ ...s, polledAt: now }, now, p, r);
  return { ...polled, reply: standingOf(polled.state) };
}

/**
 * The owner showed up (a poll, its waiting socket): it may look again. If its wait widened
 * while it was away (the alarm then had no one to put it in the wider indexes for), the entry
 * is put again first.
 */
function ownerBack(s: Live, now: number, p: Presence, r: SeatRules): Step {
  let back: Live = s;
  const effects: SeatEffect[] = [];
  if (s.kind === "waiting" && (s.offList || widenedSince(s, now, p, r))) {
    back = onList(s, now);
    effects.push(relist(back));
  }
  if (searchDue(back, now, p, r) && !(back.kind === "waiting" && isSearching(back, now))) effects.push({ type: "search" });
  return step(back, effects, undefined);
}

const isSearching = (s: Extract<SeatState, { kind: "waiting" }>, now: number) => s.searchingUntil !== null && s.searchingUntil > now;

/** A stranger asks to take this seat. At most one claim is pending at a time; it becomes final only on `confirm`. */
export function claim(s: SeatState, stranger: Seeker, ids: ClaimIds, now: number, p: Presence, r: SeatRules): Step<ClaimResult> {
  const refuse = (reason: ClaimRefusal) => step(s, [], { ok: false as const, reason });
  if (s.kind === "ended") return refuse("gone");
  if (s.kind !== "waiting") return refuse("taken");
  const { owner } = s;
  if (owner.user === stranger.user || owner.device === stranger.device) return refuse("self");
  if (owner.avoid.includes(stranger.device) || stranger.avoid.includes(owner.device)) return refuse("avoided");
  // A search of the owner's own may be under way: whichever pairing reaches this seat first
  // stands, and the search gives back what it found (endSearch). Nobody waits on anybody.
  // An owner who is not there is not offered meanwhile: each search would spend a claim on it
  // (in an overloaded burst, the owners who have not yet heard back are many).
  if (!isPresent(s, now, p, r)) {
    const refused = refuse("absent");
    return s.offList ? refused : { ...refused, state: { ...s, offList: true }, effects: [{ type: "list.remove", entry: entryOf(s) }] };
  }
  const relaxed = relaxationBetween(
    { ...owner.criteria, enqueuedAt: owner.enqueuedAt, anyLanguage: owner.anyLanguage },
    { ...stranger.criteria, enqueuedAt: stranger.enqueuedAt, anyLanguage: stranger.anyLanguage },
    now,
    r.widening,
  );
  if (!relaxed) return refuse("incompatible");
  const shared = sharedInterests(owner.interests, stranger.interests);

  const pairing = (origin: string, token: string, partner: { alias: string; name: string }): Pairing => ({
    sessionId: ids.sessionId,
    token,
    wsUrl: socketUrl(origin, CHAT_PATH, ids.sessionId),
    partnerId: partner.alias,
    partnerName: partner.name,
    relaxed,
    shared,
  });
  const ownerSide = { alias: ids.ownerAlias, name: owner.name };
  const claimerSide = { alias: ids.claimerAlias, name: stranger.name };
  const setup: RoomSetup = {
    sessionId: ids.sessionId,
    seatId: s.seatId,
    queueKey: queueKeyOfSeat(s),
    waitedMs: now - owner.enqueuedAt,
    claimer: { ...claimerSide, token: ids.claimerToken, device: stranger.device },
    claimerQueueKey: queueKeyOf(stranger.criteria),
    claimerWaitedMs: now - stranger.enqueuedAt,
    languages: [...new Set([owner.criteria.language, stranger.criteria.language])],
    relaxed,
    shared,
    owner: { ...ownerSide, token: ids.ownerToken, device: owner.device },
  };
  const claimed: SeatState = {
    ...s,
    kind: "claimed",
    claim: { sessionId: ids.sessionId, ownerPairing: pairing(owner.origin, ids.ownerToken, claimerSide), until: now + r.connectWindowMs },
  };
  // Off the list first: if the room cannot be opened, the claim is undone and the entry put back.
  const effects: SeatEffect[] = [
    { type: "list.remove", entry: entryOf(s) },
    { type: "room.open", setup },
  ];
  return step(claimed, effects, { ok: true as const, pairing: pairing(stranger.origin, ids.claimerToken, ownerSide) });
}

/** The claimer connected to the chat: the seat is given away for good, and the owner told where to go. */
export function confirm(s: SeatState, sessionId: string, now: number, r: SeatRules): Step<boolean> {
  // Asked again (a lost answer, a restarted room): the same answer.
  if (s.kind === "matched" && s.pairing.sessionId === sessionId) return step(s, [], true);
  // A claimer a little late, before the seat handed itself back, is still welcome: it is here.
  if (s.kind !== "claimed" || s.claim.sessionId !== sessionId) return step(s, [], false);
  return step(matched(s, s.claim.ownerPairing, now, r), handOver(s, s.claim.ownerPairing, false), true);
}

/** The room for a claim could not be opened: the claim is undone at once. */
export function claimFailed(s: SeatState, sessionId: string): Step {
  if (s.kind !== "claimed" || s.claim.sessionId !== sessionId) return step(s, [], undefined);
  const waiting = unclaimed(s);
  return step(waiting, [relist(waiting)], undefined);
}

/** The claimer gave this claim back (its own seat was taken meanwhile): waiting again, at the same place. */
export function release(s: SeatState, sessionId: string): Step {
  if (s.kind !== "claimed" || s.claim.sessionId !== sessionId) return step(s, [], undefined);
  const waiting = unclaimed(s);
  return step(waiting, [relist(waiting), { type: "log", event: "match.claim_released", fields: { seat: s.seatId, sessionId } }], undefined);
}

/** Back to waiting from a claim that did not become a pairing. */
function unclaimed({ claim: _, ...rest }: Extract<SeatState, { kind: "claimed" }>): Extract<SeatState, { kind: "waiting" }> {
  return { ...rest, kind: "waiting", searchingUntil: null };
}

/** Listed again under its original key (the key is the enqueue time and seat id), so the place in the queue is kept. */
const relist = (s: Extract<SeatState, { kind: "waiting" }>): SeatEffect => ({ type: "list.put", entry: entryOf(s) });

/** A waiting seat as it is when (re)listed now. */
function onList({ offList: _, ...s }: Extract<SeatState, { kind: "waiting" }>, now: number): Extract<SeatState, { kind: "waiting" }> {
  return { ...s, listedSeenAt: now };
}

/** The owner's own search is about to look for an older seat to claim (one at a time). */
export function beginSearch(s: SeatState, now: number): Step<boolean> {
  if (s.kind !== "waiting" || isSearching(s, now)) return step(s, [], false);
  return { state: { ...s, searchingUntil: now + SEARCH_TIMEOUT_MS, searchedAt: now }, effects: [], reply: true, persist: false };
}

/**
 * The search ended. If it claimed another seat, this owner is the claimer there and must
 * connect, unless this seat was taken (or ended) meanwhile: then the find is given back at
 * once, so nobody is in two pairings and the other waiter loses nothing.
 */
export function endSearch(s: SeatState, found: Found | null, now: number, r: SeatRules): Step {
  if (s.kind !== "waiting") return step(s, found ? [{ type: "release", seatId: found.seatId, sessionId: found.pairing.sessionId }] : [], undefined);
  if (!found) return { state: { ...s, searchingUntil: null }, effects: [], reply: undefined, persist: false };
  return step(matched(s, found.pairing, now, r), handOver(s, found.pairing, true), undefined);
}

/** The owner leaves (Cancel, Stop), starts a new search that replaces this one, or was banned. */
export function leave(s: SeatState, reason: "left" | "superseded" | "banned"): Step {
  if (s.kind === "ended") return step(s, [], undefined);
  return step({ kind: "ended", seatId: s.seatId, reason }, ending(s, reason), undefined);
}

/** Alarms run at least once, at the deadline `nextAlarm` gave or later: every branch is safe to repeat. */
export function alarm(s: SeatState, now: number, p: Presence, r: SeatRules): Step {
  if (s.kind === "ended") return step(s, [{ type: "erase" }], undefined);
  if (s.kind === "matched") {
    if (now < s.until) return step(s, [], undefined);
    return step({ kind: "ended", seatId: s.seatId, reason: "expired" }, [{ type: "erase" }], undefined);
  }
  const seen = lastSign(s, p);
  if (now >= seen + r.queueTtlMs) {
    const waitedMs = now - s.owner.enqueuedAt;
    const effects = ending(s, "expired");
    effects.push({ type: "log", event: "match.expired", fields: { seat: s.seatId, queue: queueKeyOfSeat(s), waitedMs } });
    return step({ kind: "ended", seatId: s.seatId, reason: "expired" }, effects, undefined);
  }
  let next: Live = s;
  const effects: SeatEffect[] = [];
  if (s.kind === "claimed" && now >= s.claim.until) {
    // The claimer never connected.
    next = { ...unclaimed(s), listedSeenAt: Math.max(s.listedSeenAt, seen) };
    effects.push(relist(next), { type: "log", event: "match.claim_lapsed", fields: { seat: s.seatId, sessionId: s.claim.sessionId }, level: "warn" });
  } else if (next.kind === "waiting" && next.offList) {
    // Off the list while its owner was away: back on it once the owner shows life again (pings
    // reach the runtime, not the seat, so the alarm is where a socket that recovered is noticed).
    if (isPresent(next, now, p, r)) {
      next = onList(next, Math.max(next.listedSeenAt, seen));
      effects.push(relist(next));
    }
  } else if (next.kind === "waiting" && ((seen > next.listedSeenAt && now >= next.listedSeenAt + refreshEvery(r)) || widenedSince(next, now, p, r))) {
    // Refreshed well inside the window readers trust, and when the wait widens: a backend may
    // index long waits by their wider scope (the queue objects do).
    next = onList(next, Math.max(next.listedSeenAt, seen));
    effects.push(relist(next));
  }
  if (searchDue(next, now, p, r)) effects.push({ type: "search" });
  return step(next, effects, undefined);
}

/** The owner's waiting socket said hello: it is here, so it may look again (its place may have been taken meanwhile). */
export function socketOpened(s: SeatState, now: number, p: Presence, r: SeatRules): Step {
  return s.kind === "ended" ? step(s, [], undefined) : ownerBack(s, now, p, r);
}

/** A waiting socket closed: the wait window runs from its last sign of life. */
export function socketGone(s: SeatState, seenAt: number): Step {
  // A matched seat has told its owner where to go (and closed the socket itself): nothing to time any more.
  if (s.kind === "ended" || s.kind === "matched" || seenAt <= s.polledAt) return step(s, [], undefined);
  return step({ ...s, polledAt: seenAt }, [], undefined);
}

/** What a (re)connecting waiting socket is told first. */
export function greeting(s: SeatState, now: number, r: SeatRules): ServerFrame[] {
  if (s.kind === "ended") return [{ type: "closed", reason: s.reason }];
  if (s.kind === "matched") return [{ type: "matched", ...s.pairing }];
  const { enqueuedAt, anyLanguage } = s.owner;
  return [{ type: "waiting", v: PROTOCOL_VERSION, queueKey: queueKeyOfSeat(s), widening: wideningIn(r.widening, enqueuedAt, anyLanguage, now) }];
}

/** The next moment the seat must act: claim lapse, entry refresh, widening, expiry or end of forwarding. */
export function nextAlarm(s: SeatState, now: number, p: Presence, r: SeatRules): number | null {
  if (s.kind === "ended") return null;
  if (s.kind === "matched") return s.until;
  const seen = lastSign(s, p);
  const deadlines = [seen + r.queueTtlMs, ...wideningTimes(s.owner, r).filter((at) => at > now)];
  // Only deadlines with something to do: a past one would wake the seat over and over.
  // A seat off the list for its owner's absence hears of the owner's return (a poll, a socket's hello), so it has no refresh to time.
  if (s.kind === "waiting" && !s.offList && seen > s.listedSeenAt) deadlines.push(s.listedSeenAt + refreshEvery(r));
  if (s.kind === "claimed") deadlines.push(s.claim.until);
  if (s.kind === "waiting" && isPresent(s, now, p, r)) deadlines.push(Math.max(s.searchedAt + r.searchEveryMs, s.searchingUntil ?? 0));
  return Math.min(...deadlines);
}

/** When a wait widens: to any emotion, then (if its owner allows it) to any language. */
const wideningTimes = (owner: Seeker, r: SeatRules): number[] => [
  owner.enqueuedAt + r.widening.emotionAfterMs,
  ...(owner.anyLanguage ? [owner.enqueuedAt + r.widening.languageAfterMs] : []),
];

/**
 * A present waiter searches again now and then, and when its search widens: two waiters who
 * missed each other (they listed the queue at the same instant) still meet.
 */
function searchDue(s: SeatState, now: number, p: Presence, r: SeatRules): boolean {
  if (s.kind !== "waiting" || !isPresent(s, now, p, r)) return false;
  return widenedSince(s, now, p, r) || now >= s.searchedAt + r.searchEveryMs;
}

/** A present waiter's search widened since it last looked. */
function widenedSince(s: Extract<SeatState, { kind: "waiting" }>, now: number, p: Presence, r: SeatRules): boolean {
  return isPresent(s, now, p, r) && wideningTimes(s.owner, r).some((at) => at <= now && at > s.searchedAt);
}

/** The list entry carries the owner's last sign of life; refreshed well inside the window readers trust. */
const refreshEvery = (r: SeatRules) => r.queueTtlMs / 2;

function matched(s: Live, pairing: Pairing, now: number, r: SeatRules): SeatState {
  // The forwarding address lives as long as the owner may still join: a polling owner's next
  // poll finds its chat, and after the connect window the room has given up on it anyway.
  const { seatId, token, owner, polledAt, listedSeenAt, searchedAt } = s;
  return { seatId, token, owner, polledAt, listedSeenAt, searchedAt, kind: "matched", pairing, until: now + r.connectWindowMs };
}

/** The owner is told where its chat is; `listed`: the entry is still on the list (a claim took it off already). */
function handOver(s: Live, pairing: Pairing, listed: boolean): SeatEffect[] {
  return [
    ...(listed ? [{ type: "list.remove", entry: entryOf(s) } as const] : []),
    { type: "send", frame: { type: "matched", ...pairing } },
    { type: "close", code: CLOSE.matched, reason: "matched" },
  ];
}

/** The seat's own storage goes first; the list entry (outside I/O that may fail) after: a stale entry only costs a refused claim. */
function ending(s: Live, reason: CloseReason): SeatEffect[] {
  const effects: SeatEffect[] = [
    { type: "send", frame: { type: "closed", reason } },
    { type: "close", code: CLOSE.ended, reason: `wait ended: ${reason}` },
    { type: "erase" },
  ];
  // Only a waiting seat is listed: a claim, a match or its owner's absence took it off already.
  if (s.kind === "waiting" && !s.offList) effects.push({ type: "list.remove", entry: entryOf(s) });
  return effects;
}
