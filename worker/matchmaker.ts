/**
 * The matchmaker, behind `POST /api/match`: a follow-up on a wait asks that wait's seat; a
 * new search claims a waiting stranger's seat, or opens a seat of its own.
 */
import { timings, widening, type Timings } from "./config";
import { botCheckEnabled, requireHuman } from "./bot-check";
import { ApiError } from "./errors";
import { WAIT_PATH, socketUrl, type MatchFound, type MatchResponse, type MatchWaiting, type Pairing, type ParsedMatchRequest } from "./protocol";
import { queueKeyOf } from "./queue-entry";
import { Search } from "./search";
import type { Seeker, Standing } from "./seat-rules";
import { deviceStub, newSeatId, seatStub, seatsOfDevice } from "./stubs";
import { wideningIn } from "./widening";

/**
 * `client` holds the fingerprints of `req.userId` and `req.deviceId` (the route already needed
 * the device's for its rate limit) and the caller's address, for the optional human check.
 */
export async function match(env: Env, req: ParsedMatchRequest, client: { user: string; device: string; address: string | null }, origin: string): Promise<MatchResponse> {
  const { user, device } = client;
  const t = timings(env);
  const devices = deviceStub(env, device);
  const standing = await devices.standing(device);
  if (standing.bannedUntil) {
    const until = new Date(standing.bannedUntil).toISOString();
    throw new ApiError(403, "banned", `This device is banned until ${until} after reports from other users.`, { until });
  }
  if (botCheckEnabled(env) && !standing.human) {
    await requireHuman(env, req.turnstileToken, client.address);
    await devices.passedHumanCheck(device);
  }
  const seeker: Seeker = {
    name: req.userName,
    user,
    device,
    avoid: standing.avoid,
    criteria: { mode: req.mode, emotion: req.emotion, language: req.language },
    anyLanguage: req.anyLanguage,
    interests: req.interests,
    enqueuedAt: Date.now(),
    origin,
  };
  const answer = (s: Standing, token: string) => respond(env, t, seeker, s, token);

  const ticket = req.ticket ? parseTicket(req.ticket) : null;
  if (req.ticket && !ticket) throw new ApiError(400, "invalid_body", "ticket: malformed ticket");
  if (ticket) {
    const own = await seatStub(env, ticket.seatId).poll(ticket.seatId, ticket.token, seeker.user);
    // A wait that ended (it went silent past the window, or was matched long ago) is simply started afresh.
    if (own.kind !== "gone") return answer(own, ticket.token);
  }
  const pairing = await new Search(env, t, seeker).asNewcomer();
  if (pairing) {
    // A wait this user still holds on this device (a request re-sent without its ticket, another tab) must not pair them twice.
    await seatsOfDevice(env, device).withdraw(user, device);
    return found(pairing, seeker);
  }
  // The seat's shard replaces any wait this user still holds on this device (a request re-sent without its ticket): one wait each.
  const seatId = newSeatId(device);
  const opened = await seatStub(env, seatId).open(seatId, seeker);
  return answer(opened.standing, opened.token);
}

function respond(env: Env, t: Timings, seeker: Seeker, s: Standing, token: string): MatchResponse {
  if (s.kind === "gone") throw new Error("a seat answered for a wait that is gone");
  if (s.kind === "matched") return found(s.pairing, seeker);
  return {
    success: true,
    matched: false,
    message: "Looking for someone to talk to…",
    queueKey: s.queueKey,
    ticket: `${s.seatId}.${token}`,
    wsUrl: socketUrl(seeker.origin, WAIT_PATH, s.seatId),
    pollAfterMs: t.pollAfterMs,
    expiresInMs: t.queueTtlMs,
    widening: wideningIn(widening(env), s.enqueuedAt, s.anyLanguage, Date.now()),
  } satisfies MatchWaiting;
}

const found = (pairing: Pairing, seeker: Seeker): MatchFound => ({ success: true, matched: true, queueKey: queueKeyOf(seeker.criteria), ...pairing });

function parseTicket(ticket: string): { seatId: string; token: string } | null {
  const m = /^([A-Za-z0-9_-]{10,64})\.([A-Za-z0-9_-]{10,64})$/.exec(ticket);
  return m ? { seatId: m[1], token: m[2] } : null;
}
