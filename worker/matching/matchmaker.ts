/**
 * The matchmaker, behind `POST /api/match`: two calls in sequence, the device's standing (bans,
 * whom it must not meet) and the queue's lobby, which pairs or records the wait in one step.
 * Everything else a pairing needs (the room, who met whom, the counts) happens without making
 * anyone wait for it.
 */

import { type MatchFound, type MatchResponse, type MatchWaiting, waitUrl } from "@strangers/protocol";
import { Criteria, type ParsedMatchRequest } from "@strangers/protocol/schemas";
import type { Verdict } from "../moderation/filter";
import { profileFilterFor } from "../moderation/setup";
import { splitLanguages, timings, widening } from "../platform/config";
import { ApiError, rateLimited } from "../platform/errors";
import { log } from "../platform/log";
import { deviceStub, lobbyStub } from "../platform/stubs";
import { botCheckEnabled, requireHuman } from "../trust/bot-check";
import type { LobbyAnswer } from "./lobby";
import { queueKeyOf, type Seeker } from "./pairing";
import { wideningIn } from "./widening";

/**
 * The lobby of a queue: one per mode and language, with its feelings inside (so widening to
 * another feeling is decided in one place); a language the operator split (LOBBY_SPLIT_LANGUAGES,
 * for one that would pass an object's request budget) has one lobby per feeling.
 */
export function lobbyNameOf(c: Criteria, env: Env): string {
  const base = `${c.mode}/${c.language}`;
  return splitLanguages(env).includes(c.language) ? `${base}/${c.emotion}` : base;
}

/** A lobby name from a URL, if it is one this service would build: nobody can name an object of their choosing. */
export function parseLobbyName(name: string, env: Env): string | null {
  const [mode, language, emotion, ...rest] = name.split("/");
  if (rest.length || language === undefined) return null;
  const parsed = Criteria.safeParse({ mode, language, emotion: emotion ?? "any" });
  return parsed.success && lobbyNameOf(parsed.data, env) === name ? name : null;
}

type Client = { user: string; device: string; network: string; address: string | null };
/** Runs a new search within the isolate's admission limit (or turns it away `busy`). */
export type Admit = <T>(search: () => Promise<T>) => Promise<T>;

/**
 * `client` holds the fingerprints of `req.userId`, `req.deviceId` and the caller's network, and
 * the caller's address, for the optional human check. A follow-up on a wait that still exists
 * is served as it comes; a new search (or one whose wait is over) goes through `admit`, so a
 * made-up ticket buys no way past the admission limit or the human check.
 */
export async function match(
  env: Env,
  req: ParsedMatchRequest,
  client: Client,
  origin: string,
  admit: Admit,
): Promise<MatchResponse> {
  const ticket = req.ticket ? parseTicket(req.ticket) : null;
  if (req.ticket && !ticket) throw new ApiError(400, "invalid_body", "ticket: malformed ticket");
  const lobby = lobbyNameOf(criteriaOf(req), env);
  if (!ticket)
    return admit(async () => search(env, req, client, lobby, await standingOf(env, req, client, origin, lobby)));
  const asked = await standingOf(env, req, client, origin, lobby);
  // Not re-challenged by the human check: a follow-up belongs to a wait that began with it (a
  // ban on the network meanwhile must not throw its waiters out).
  const followed = await ask(env, lobby, asked.seeker, ticket);
  // Its wait is over: the same seeker searches afresh, without asking the device's shard twice.
  return followed ?? admit(() => search(env, req, client, lobby, asked));
}

type Asked = { seeker: Seeker; human: boolean };

const criteriaOf = (req: ParsedMatchRequest): Criteria => ({
  mode: req.mode,
  emotion: req.emotion,
  language: req.language,
});

/** What the search shows and the device's standing (its budget, a ban, whom to avoid): the seeker the lobby is asked about. */
async function standingOf(
  env: Env,
  req: ParsedMatchRequest,
  client: Client,
  origin: string,
  lobby: string,
): Promise<Asked> {
  const { user, device, network } = client;
  const { name, interests } = await screened(env, req);
  const standing = await deviceStub(env, device).standing(device, user, network, lobby);
  if ("retryAfterSeconds" in standing) {
    log("ratelimit.hit", { limiter: "match_device" }, "warn");
    throw rateLimited("match requests", standing.retryAfterSeconds);
  }
  if (standing.bannedUntil) {
    const until = new Date(standing.bannedUntil).toISOString();
    throw new ApiError(403, "banned", `Banned until ${until} after reports from other users.`, { until });
  }
  const seeker: Seeker = {
    name,
    user,
    device,
    network,
    vouched: standing.vouched,
    avoid: standing.avoid,
    criteria: criteriaOf(req),
    anyLanguage: req.anyLanguage,
    interests,
    origin,
  };
  return { seeker, human: standing.human };
}

/** A new search: the human check where it is asked for, then the lobby. */
async function search(
  env: Env,
  req: ParsedMatchRequest,
  client: Client,
  lobby: string,
  { seeker, human }: Asked,
): Promise<MatchResponse> {
  if (botCheckEnabled(env) && !human) {
    await requireHuman(env, req.turnstileToken, client.address);
    await deviceStub(env, client.device).passedHumanCheck(client.device);
    seeker = { ...seeker, vouched: true };
  }
  // Only a follow-up's wait can be over.
  return (await ask(env, lobby, seeker, null))!;
}

/** The lobby's one call; null: the ticket's wait is over. */
async function ask(env: Env, lobby: string, seeker: Seeker, ticket: Ticket | null): Promise<MatchResponse | null> {
  const answer = await lobbyStub(env, lobby).match(seeker, ticket);
  return answer.kind === "over" ? null : respond(env, lobby, seeker, answer);
}

/**
 * A name and interests are shown to the partner, so they pass the message filter first: refused
 * (a 400 naming the field) or masked as MODERATION_ACTION says; a masked interest is dropped, as
 * nobody shares "•••". Judged in the search's language, as a message of its chat would be: a
 * word that offends only in another language ("Randi") is someone's name here.
 */
async function screened(env: Env, req: ParsedMatchRequest): Promise<{ name: string; interests: string[] }> {
  const filter = profileFilterFor(env);
  const judged = async (field: string, text: string): Promise<Verdict> => {
    const verdict = await filter.check(text, [req.language]);
    if (verdict.action === "refuse")
      throw new ApiError(
        400,
        "content_filtered",
        `${field}: not allowed (${verdict.categories.join(", ")}); it would be shown to strangers.`,
      );
    return verdict;
  };
  const named = await judged("userName", req.userName);
  const interests: string[] = [];
  for (const tag of req.interests) if ((await judged("interests", tag)).action === "pass") interests.push(tag);
  return { name: named.action === "mask" ? named.text : req.userName, interests };
}

function respond(
  env: Env,
  lobby: string,
  seeker: Seeker,
  answer: Exclude<LobbyAnswer, { kind: "over" }>,
): MatchResponse {
  // Asking again would only replace the newer search in turn: this request is simply over.
  if (answer.kind === "gone")
    throw new ApiError(409, "search_replaced", "A newer search by this user (or its leaving) ended this one.");
  if (answer.kind === "matched")
    return {
      success: true,
      matched: true,
      queueKey: queueKeyOf(seeker.criteria),
      ...answer.pairing,
    } satisfies MatchFound;
  const t = timings(env);
  return {
    success: true,
    matched: false,
    message: "Looking for someone to talk to…",
    queueKey: answer.queueKey,
    ticket: `${answer.seatId}.${answer.token}`,
    wsUrl: waitUrl(seeker.origin, lobby, answer.seatId),
    pollAfterMs: t.pollAfterMs,
    expiresInMs: t.queueTtlMs,
    widening: wideningIn(widening(env), answer.enqueuedAt, answer.anyLanguage, Date.now()),
  } satisfies MatchWaiting;
}

type Ticket = { seatId: string; token: string };

function parseTicket(ticket: string): Ticket | null {
  const m = /^([A-Za-z0-9_-]{10,64})\.([A-Za-z0-9_-]{10,64})$/.exec(ticket);
  return m ? { seatId: m[1], token: m[2] } : null;
}
