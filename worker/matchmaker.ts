/**
 * The matchmaker: finds a waiting stranger in the KV queue and asks that stranger's
 * ChatRoom to seat us. KV only suggests candidates; the room's single-threaded `claim`
 * decides, so a user can never end up in two pairs or paired with itself.
 */
import { nanoid } from "nanoid";
import { timings, type Timings } from "./config";
import { ApiError } from "./errors";
import type { ChatRoom, Newcomer, PollResult, Seat } from "./chat-room";
import { deviceStub } from "./device";
import { log } from "./log";
import { chatUrl, type MatchFound, type MatchResponse, type MatchWaiting, type ParsedMatchRequest } from "./protocol";
import { entryKeyOf, fingerprint, listFresh, previousWait, queueKeyOf, rememberWait, type QueueEntry } from "./queue";

/** Candidates tried per request: enough to get past a few taken rooms, bounded so a request stays fast. */
const CLAIM_ATTEMPTS = 4;
/** Spread concurrent seekers over the longest waiters instead of all hitting the very oldest. */
const CANDIDATE_WINDOW = 8;

type Seeker = Newcomer & { queueKey: string };
type OwnWait = Extract<PollResult, { status: "waiting" }> & { token: string };

export async function match(env: Env, req: ParsedMatchRequest, origin: string): Promise<MatchResponse> {
  const t = timings(env);
  const device = await fingerprint(req.deviceId);
  const standing = await deviceStub(env, device).standing();
  if (standing.bannedUntil) {
    const until = new Date(standing.bannedUntil).toISOString();
    throw new ApiError(403, "banned", `This device is banned until ${until} after reports from other users.`, { until });
  }
  const seeker: Seeker = {
    name: req.userName,
    user: await fingerprint(req.userId),
    device,
    origin,
    queueKey: queueKeyOf(req),
    avoid: standing.avoid,
  };

  const ticket = req.ticket ? parseTicket(req.ticket) : null;
  if (req.ticket && !ticket) throw new ApiError(400, "invalid_body", "ticket: malformed ticket");
  if (ticket) {
    const room = roomStub(env, ticket.sessionId);
    const state = await room.poll(ticket.token, seeker.user);
    if (state.status === "matched") return found(state.seat, origin, seeker.queueKey);
    if (state.status === "waiting") {
      const own: OwnWait = { ...state, token: ticket.token };
      const seat = await claimOlder(env, seeker, own, t);
      if (seat) return found(seat, origin, seeker.queueKey);
      return waiting(own, origin, t);
    }
    // The ticket's wait ended (it went silent past the window, or its chat is over): queue afresh.
  }

  // A request without a ticket starts a new search: it replaces any wait this user still holds.
  const previous = ticket ? null : await previousWait(env.QUEUE, seeker.user);
  if (previous) await roomStub(env, previous).withdraw(seeker.user, seeker.device);

  const seat = await claimAny(env, seeker, t);
  if (seat) return found(seat, origin, seeker.queueKey);
  return enqueue(env, seeker, t);
}

/** A newcomer holds no room yet, so nobody can claim it concurrently: it may take anyone. */
async function claimAny(env: Env, seeker: Seeker, t: Timings): Promise<Seat | null> {
  const entries = await listFresh(env.QUEUE, seeker.queueKey, Date.now(), t);
  const strangers = entries.filter((c) => isStranger(seeker, c)).slice(0, CANDIDATE_WINDOW);
  return tryClaims(env, seeker, shuffle(strangers).slice(0, CLAIM_ATTEMPTS));
}

/**
 * A waiting user also searches, or two users who queued at the same instant would wait
 * forever. The queue pairs off in order: whoever stands at an odd position takes the one
 * just ahead, the others wait to be taken. Waiters polling together see the same list, so
 * one round pairs them all instead of everyone fighting over the oldest entry. The
 * searcher shields its own room while it claims, so it cannot be taken twice.
 */
async function claimOlder(env: Env, seeker: Seeker, own: OwnWait, t: Timings): Promise<Seat | null> {
  const entries = await listFresh(env.QUEUE, seeker.queueKey, Date.now(), t);
  const position = entries.findIndex((e) => e.key === own.entryKey);
  if (position % 2 === 0) return null;
  const ahead = (position > 0 ? entries.slice(0, position) : entries.filter((e) => e.key < own.entryKey)).filter(
    (c) => isStranger(seeker, c),
  );
  if (ahead.length === 0) return null;
  // The neighbour first; if it cannot be taken (a stale list, the same device), a few others.
  const candidates = [ahead.at(-1)!, ...shuffle(ahead.slice(0, -1)).slice(0, CLAIM_ATTEMPTS - 1)];

  const room = roomStub(env, own.sessionId);
  const reserved = await room.reserve(own.token, seeker.user);
  if (!reserved.ok) return reserved.poll.status === "matched" ? reserved.poll.seat : null;
  const seat = await tryClaims(env, seeker, candidates);
  if (!seat) {
    await room.release(reserved.reservation);
    return null;
  }
  if (await room.moveTo(reserved.reservation, seat)) return seat;
  // Our reservation lapsed and someone may have taken our room: give the new seat back.
  await roomStub(env, seat.sessionId).cancel(seat.token);
  log("match.seat_returned", { sessionId: seat.sessionId }, "warn");
  const now = await room.poll(own.token, seeker.user);
  return now.status === "matched" ? now.seat : null;
}

/** Not ourselves, and not someone we just skipped or blocked (the room re-checks both directions). */
const isStranger = (seeker: Seeker, c: QueueEntry): boolean =>
  c.user !== seeker.user && c.device !== seeker.device && !seeker.avoid.includes(c.device);

async function tryClaims(env: Env, seeker: Seeker, candidates: QueueEntry[]): Promise<Seat | null> {
  const { queueKey, ...newcomer } = seeker;
  for (const candidate of candidates) {
    const result = await roomStub(env, candidate.sessionId).claim(newcomer);
    if (!result.ok) continue;
    // Remembered before anyone hears of the pairing, so Next can never hand the same stranger back.
    await Promise.all([deviceStub(env, seeker.device).met(candidate.device), deviceStub(env, candidate.device).met(seeker.device)]);
    return result.seat;
  }
  return null;
}

async function enqueue(env: Env, seeker: Seeker, t: Timings): Promise<MatchWaiting> {
  const sessionId = nanoid();
  const now = Date.now();
  const entryKey = entryKeyOf(seeker.queueKey, now, sessionId);
  const { queueKey, ...owner } = seeker;
  const { token } = await roomStub(env, sessionId).open(sessionId, queueKey, entryKey, owner);
  await rememberWait(env.QUEUE, seeker.user, sessionId, t);
  return waiting({ status: "waiting", sessionId, queueKey, entryKey, enqueuedAt: now, token }, seeker.origin, t);
}

function waiting(own: OwnWait, origin: string, t: Timings): MatchWaiting {
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
  };
}

function found(seat: Seat, origin: string, queueKey: string): MatchFound {
  return {
    success: true,
    matched: true,
    sessionId: seat.sessionId,
    partnerId: seat.partnerId,
    partnerName: seat.partnerName,
    wsUrl: chatUrl(origin, seat.sessionId, seat.token),
    queueKey,
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
