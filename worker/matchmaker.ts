/**
 * The matchmaker: finds a waiting stranger on the waiting list and asks that stranger's
 * ChatRoom to seat us. The list only suggests candidates; the room's single-threaded
 * `claim` decides, so a user can never end up in two pairs or paired with itself.
 */
import { nanoid } from "nanoid";
import { timings, widening, type Timings } from "./config";
import type { ChatRoom, Newcomer, PollResult, Seat } from "./chat-room";
import { deviceStub } from "./device";
import { ApiError } from "./errors";
import { fingerprint } from "./identity";
import { log } from "./log";
import { chatUrl, type MatchFound, type MatchResponse, type MatchWaiting, type ParsedMatchRequest } from "./protocol";
import { before, queueKeyOf, waitingListFor, type QueueEntry, type Scope, type WaitingList } from "./waiting-list";
import { relaxationBetween } from "./widening";

/** Candidates tried per request: enough to get past a few taken rooms, bounded so a request stays fast. */
const CLAIM_ATTEMPTS = 4;
/** Spread concurrent newcomers over the longest waiters instead of all hitting the very oldest. */
const CANDIDATE_WINDOW = 8;

type OwnWait = Extract<PollResult, { status: "waiting" }> & { token: string };

/** `device` is the fingerprint of `req.deviceId` (the route already needed it for its rate limit). */
export async function match(env: Env, req: ParsedMatchRequest, device: string, origin: string): Promise<MatchResponse> {
  const t = timings(env);
  const deviceRecord = deviceStub(env, device);
  const standing = await deviceRecord.standing();
  if (standing.bannedUntil) {
    const until = new Date(standing.bannedUntil).toISOString();
    throw new ApiError(403, "banned", `This device is banned until ${until} after reports from other users.`, { until });
  }
  const seeker: Newcomer = {
    name: req.userName,
    user: await fingerprint(req.userId),
    device,
    origin,
    avoid: standing.avoid,
    criteria: { mode: req.mode, emotion: req.emotion, language: req.language },
    anyLanguage: req.anyLanguage,
    enqueuedAt: Date.now(),
  };
  const search = new Search(env, t, seeker);

  const ticket = req.ticket ? parseTicket(req.ticket) : null;
  if (req.ticket && !ticket) throw new ApiError(400, "invalid_body", "ticket: malformed ticket");
  if (ticket) {
    const state = await roomStub(env, ticket.sessionId).poll(ticket.token, seeker.user);
    if (state.status === "matched") return found(state.seat, origin, seeker);
    if (state.status === "waiting") {
      const own: OwnWait = { ...state, token: ticket.token };
      const seat = await search.asWaiter(own);
      return seat ? found(seat, origin, seeker) : waiting(own, origin, env, t, seeker);
    }
    // The ticket's wait ended (it went silent past the window, or its chat is over): queue afresh.
  } else if (standing.waitingIn) {
    // A request without a ticket starts a new search: it replaces the wait this device still holds.
    await roomStub(env, standing.waitingIn).withdraw(seeker.user, seeker.device);
  }

  const seat = await search.asNewcomer();
  if (seat) return found(seat, origin, seeker);
  const own = await enqueue(env, seeker);
  await deviceRecord.waiting(own.sessionId);
  return waiting(own, origin, env, t, seeker);
}

/** One request's search for a partner. */
class Search {
  private readonly list: WaitingList;

  constructor(
    private readonly env: Env,
    private readonly t: Timings,
    private readonly seeker: Newcomer,
  ) {
    this.list = waitingListFor(env, t);
  }

  /** A newcomer holds no room yet, so nobody can claim it concurrently: it may take anyone in its queue. */
  async asNewcomer(): Promise<Seat | null> {
    const strangers = (await this.candidates("exact")).slice(0, CANDIDATE_WINDOW);
    return this.tryClaims(shuffle(strangers).slice(0, CLAIM_ATTEMPTS), this.seeker);
  }

  /**
   * A waiting user also searches, or two users who queued at the same instant would wait
   * forever. In its exact queue it pairs off in order: whoever stands at an odd position
   * takes the one just ahead, the others wait to be taken. Waiters polling together see the
   * same list, so one round pairs them all instead of everyone fighting over the oldest
   * entry. After a while it widens, and then only claims users who queued before it, so two
   * waiters never try to take each other. It shields its own room while it claims.
   */
  async asWaiter(own: OwnWait): Promise<Seat | null> {
    const exact = await this.candidates("exact", own.entry);
    const position = exact.findIndex((e) => e.sessionId === own.sessionId);
    let candidates: QueueEntry[] = [];
    if (position % 2 !== 0) {
      const ahead = (position > 0 ? exact.slice(0, position) : exact.filter((e) => before(e, own.entry))).filter((c) => this.isStranger(c));
      // The neighbour first; if it cannot be taken (a stale list, the same device), a few others.
      if (ahead.length) candidates = [ahead.at(-1)!, ...shuffle(ahead.slice(0, -1)).slice(0, CLAIM_ATTEMPTS - 1)];
    }
    if (candidates.length === 0) candidates = await this.widened(own.entry);
    if (candidates.length === 0) return null;

    const room = roomStub(this.env, own.sessionId);
    const reserved = await room.reserve(own.token, this.seeker.user);
    if (!reserved.ok) return reserved.poll.status === "matched" ? reserved.poll.seat : null;
    // Widening weighs how long both sides waited: claim as who we are, waiting since we queued.
    const seat = await this.tryClaims(candidates, { ...this.seeker, enqueuedAt: own.entry.enqueuedAt });
    if (!seat) {
      await room.release(reserved.reservation);
      return null;
    }
    if (await room.moveTo(reserved.reservation, seat)) return seat;
    // Our reservation lapsed and someone may have taken our room: give the new seat back.
    await roomStub(this.env, seat.sessionId).cancel(seat.token);
    log("match.seat_returned", { sessionId: seat.sessionId }, "warn");
    const now = await room.poll(own.token, this.seeker.user);
    return now.status === "matched" ? now.seat : null;
  }

  /** Same language, any emotion; then any language if both allow it. Exact matches were tried first. */
  private async widened(me: QueueEntry): Promise<QueueEntry[]> {
    const w = widening(this.env);
    const now = Date.now();
    const waited = now - me.enqueuedAt;
    const scopes: Scope[] = [];
    if (waited >= w.emotionAfterMs) scopes.push("language");
    if (me.anyLanguage && waited >= w.languageAfterMs) scopes.push("any");
    for (const scope of scopes) {
      // Only other queues (the exact queue is paired off above, and widening must not disturb
      // that), and the closest first: relaxing one criterion beats relaxing two.
      const older = (await this.candidates(scope, me)).flatMap((c) => {
        const relaxed = before(c, me) ? relaxationBetween(me, c, now, w) : null;
        return relaxed?.length ? [{ c, distance: relaxed.length }] : [];
      });
      if (older.length === 0) continue;
      const closest = Math.min(...older.map((o) => o.distance));
      const best = older.filter((o) => o.distance === closest).map((o) => o.c);
      return shuffle(best.slice(0, CANDIDATE_WINDOW)).slice(0, CLAIM_ATTEMPTS);
    }
    return [];
  }

  private async candidates(scope: Scope, me?: QueueEntry): Promise<QueueEntry[]> {
    const entries = await this.list.fresh(this.seeker.criteria, scope, Date.now());
    return entries.filter((c) => c.sessionId === me?.sessionId || this.isStranger(c));
  }

  /** Not ourselves, and not someone we just skipped or blocked (the room re-checks both directions). */
  private isStranger(c: QueueEntry): boolean {
    const s = this.seeker;
    return c.user !== s.user && c.device !== s.device && !s.avoid.includes(c.device);
  }

  private async tryClaims(candidates: QueueEntry[], claimant: Newcomer): Promise<Seat | null> {
    for (const candidate of candidates) {
      const result = await roomStub(this.env, candidate.sessionId).claim(claimant);
      if (!result.ok) continue;
      // Remembered before anyone hears of the pairing, so Next can never hand the same stranger back.
      await Promise.all([
        deviceStub(this.env, this.seeker.device).met(candidate.device),
        deviceStub(this.env, candidate.device).met(this.seeker.device),
      ]);
      return result.seat;
    }
    return null;
  }
}

async function enqueue(env: Env, seeker: Newcomer): Promise<OwnWait> {
  const sessionId = nanoid();
  const { token, entry } = await roomStub(env, sessionId).open(sessionId, seeker);
  return { status: "waiting", sessionId, queueKey: queueKeyOf(seeker.criteria), entry, token };
}

function waiting(own: OwnWait, origin: string, env: Env, t: Timings, seeker: Newcomer): MatchWaiting {
  const w = widening(env);
  return {
    success: true,
    matched: false,
    message: "Looking for someone to talk to…",
    queueKey: own.queueKey,
    ticket: `${own.sessionId}.${own.token}`,
    sessionId: own.sessionId,
    wsUrl: chatUrl(origin, own.sessionId, own.token),
    pollAfterMs: Math.min(3000, Math.floor(t.queueTtlMs / 4)),
    expiresInMs: t.queueTtlMs,
    widening: {
      emotionAfterMs: Math.max(0, own.entry.enqueuedAt + w.emotionAfterMs - Date.now()),
      languageAfterMs: seeker.anyLanguage ? Math.max(0, own.entry.enqueuedAt + w.languageAfterMs - Date.now()) : null,
    },
  };
}

function found(seat: Seat, origin: string, seeker: Newcomer): MatchFound {
  return {
    success: true,
    matched: true,
    sessionId: seat.sessionId,
    partnerId: seat.partnerId,
    partnerName: seat.partnerName,
    wsUrl: chatUrl(origin, seat.sessionId, seat.token),
    queueKey: queueKeyOf(seeker.criteria),
    relaxed: seat.relaxed,
  };
}

function parseTicket(ticket: string): { sessionId: string; token: string } | null {
  const m = /^([A-Za-z0-9_-]{10,64})\.([A-Za-z0-9_-]{10,64})$/.exec(ticket);
  return m ? { sessionId: m[1], token: m[2] } : null;
}

export function roomStub(env: Env, sessionId: string): DurableObjectStub<ChatRoom> {
  return env.CHAT_ROOM.get(env.CHAT_ROOM.idFromName(sessionId));
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}
