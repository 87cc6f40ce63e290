/**
 * HTTP entry point. Routes are thin: validate with zod, call one function, and let the
 * single `onError` turn every failure into the JSON error envelope.
 */

import { CHAT_PATH, LIMITS, WAIT_PATH } from "@strangers/protocol";
import { AroundQuery, ChatQuery, MatchRequestSchema, WaitQuery } from "@strangers/protocol/schemas";
import { type Context, Hono } from "hono";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import type { z } from "zod";
import { aroundFigures, aroundTable } from "./around";
import { networkKey } from "./client-address";
import { allowedOrigins, matchConcurrency, policy } from "./config";
import { ApiError, busy, errorResponse, rateLimited } from "./errors";
import { fingerprint } from "./identity";
import { log } from "./log";
import { match, parseLobbyName } from "./matchmaker";
import { meter } from "./metering";
import { queueKeyOf } from "./pairing";
import { NETWORK_HEADER } from "./socket-object";
import { offeredQueue, publicView, statsReport } from "./stats";
import { lobbyStub, roomStub } from "./stubs";

export { ChatRoom } from "./chat-room";
export { DeviceBook } from "./device-book";
export { Lobby } from "./lobby";
export { Stats } from "./stats";

const app = new Hono<{ Bindings: Env }>();

// Every request the Worker serves (the page itself is served by Static Assets, not counted): the bench's cost model reads it.
app.use("*", async (_c, next) => {
  meter("worker.request");
  await next();
});

/** The page's own origin always works; others only when listed in ALLOWED_ORIGINS. */
const originAllowed = (origin: string, requestUrl: string, env: Env): boolean =>
  origin === new URL(requestUrl).origin || allowedOrigins(env).includes(origin);

/**
 * A browser on a foreign page is refused outright, whatever the method: CORS alone only hides
 * the answer from that page, while the request (a wait in the queue) would still be made.
 * Native apps send no Origin.
 */
app.use("/api/*", async (c, next) => {
  const origin = c.req.header("Origin");
  if (origin && !originAllowed(origin, c.req.url, c.env))
    throw new ApiError(403, "origin_not_allowed", `Requests from ${origin} are not allowed.`);
  await next();
});

app.use(
  "/api/*",
  cors({
    origin: (origin) => origin,
    allowMethods: ["GET", "POST", "OPTIONS"],
    allowHeaders: ["Content-Type"],
    maxAge: 600,
  }),
);

app.get("/api/health", (c) => c.json({ ok: true }));

/** Counts only, coarse, never anything about a person. */
app.get("/api/stats", async (c) => {
  await limit(c.env.STATS_PER_IP, networkKey(c.req.raw, c.env), "stats_ip", "stats requests");
  return c.json(await cached(c, "/api/stats", async () => publicView(await statsReport(c.env))), 200, PUBLIC_CACHE);
});

/** The waiting screen's figures for one queue; queues the page does not offer share one answer. */
app.get("/api/around", async (c) => {
  await limit(c.env.STATS_PER_IP, networkKey(c.req.raw, c.env), "stats_ip", "stats requests");
  const queueKey = queueKeyOf(validate(AroundQuery, c.req.query(), "invalid_query"));
  const table = await cached(c, "/api/around", async () => aroundTable(await statsReport(c.env)));
  return c.json(aroundFigures(table, offeredQueue(queueKey) ? queueKey : "other"), 200, PUBLIC_CACHE);
});

/** What a client asks before the first chat; the operator sets the age (MINIMUM_AGE). */
app.get("/api/policy", (c) => c.json(policy(c.env), 200, { "Cache-Control": "public, max-age=300" }));

/**
 * A request is charged to its address and its body read (bounded in size and time) before it
 * can hold anything of the isolate's; a new search then takes one of MATCH_CONCURRENCY slots
 * for the two calls that decide it (the first also takes from the device's budget), and a poll
 * of a wait that still exists takes none (it is one cheap call, and its owner must not lose its
 * place because others crowd in). A ticket whose wait is over, or made up, is a new search.
 */
app.post("/api/match", async (c) => {
  const network = networkKey(c.req.raw, c.env);
  await limit(c.env.MATCH_PER_IP, network, "match_ip", "match requests");
  const body = validate(MatchRequestSchema, await readJson(c.req.raw), "invalid_body");
  // Loopback in local development has no network of its own: all such callers share one.
  const [user, device, networkPrint] = await Promise.all([
    fingerprint(c.env, body.userId),
    fingerprint(c.env, body.deviceId),
    fingerprint(c.env, network ?? "local"),
  ]);
  const client = { user, device, network: networkPrint, address: c.req.header("CF-Connecting-IP") ?? null };
  return c.json(await match(c.env, body, client, new URL(c.req.url).origin, (search) => admitted(c.env, search)));
});

/**
 * New searches this isolate is deciding. Past MATCH_CONCURRENCY one is turned away at once
 * (503 `busy`, Retry-After) instead of queuing: a request that waits longer than its client
 * does is work for nobody, and the client asks again, so an overloaded server would spend ever
 * more on abandoned requests. Being turned away costs next to nothing.
 */
let searchesInFlight = 0;
async function admitted<T>(env: Env, work: () => Promise<T>): Promise<T> {
  if (searchesInFlight >= matchConcurrency(env)) throw busy();
  searchesInFlight++;
  try {
    return await work();
  } finally {
    searchesInFlight--;
  }
}

/** The two sockets: a chat (one room per pairing) and a wait (held by its queue's lobby). Each identifies itself in its first frame. */
app.get(CHAT_PATH, async (c) => {
  const forwarded = await upgradeFrom(c.req.raw, c.env);
  const { sessionId } = validate(ChatQuery, c.req.query(), "invalid_query");
  return roomStub(c.env, sessionId).fetch(forwarded);
});

app.get(WAIT_PATH, async (c) => {
  const forwarded = await upgradeFrom(c.req.raw, c.env);
  const query = validate(WaitQuery, c.req.query(), "invalid_query");
  const lobby = parseLobbyName(query.lobby, c.env);
  if (!lobby) throw new ApiError(400, "invalid_query", "lobby: not a queue of this service");
  return lobbyStub(c.env, lobby).fetch(forwarded);
});

app.all("/api/match", () => {
  throw new ApiError(405, "method_not_allowed", "Use POST /api/match.");
});

app.notFound(() => errorResponse(404, "not_found", "No such route."));

app.onError((err, c) => {
  if (err instanceof HTTPException) return err.getResponse();
  log("http.error", { path: c.req.path, error: err instanceof Error ? err.message : String(err) }, "error");
  return errorResponse(500, "internal_error", "Something went wrong on our side.");
});

/**
 * A socket may only be opened as a WebSocket, from a browser only by the page's own origin or
 * an allowed one, and within its network's budget. The object gets the network (never taken
 * from the client) to charge a wrong token against it.
 */
async function upgradeFrom(request: Request, env: Env): Promise<Request> {
  if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
    throw new ApiError(426, "upgrade_required", "This endpoint only accepts WebSocket upgrades.");
  }
  const origin = request.headers.get("Origin");
  if (origin && !originAllowed(origin, request.url, env)) {
    throw new ApiError(403, "origin_not_allowed", `Connections from ${origin} are not allowed.`);
  }
  const network = networkKey(request, env);
  await limit(env.SOCKETS_PER_IP, network, "sockets_ip", "connections");
  const forwarded = new Request(request);
  forwarded.headers.set(NETWORK_HEADER, network ?? "");
  return forwarded;
}

async function limit(limiter: RateLimit, key: string | null, name: string, what: string): Promise<void> {
  if (key === null || (await limiter.limit({ key })).success) return;
  log("ratelimit.hit", { limiter: name }, "warn");
  throw rateLimited(what);
}

const STATS_CACHE_SECONDS = 5;
const PUBLIC_CACHE = { "Cache-Control": `public, max-age=${STATS_CACHE_SECONDS}` };

/**
 * Counts from a few seconds ago: cheap to serve, worthless to scrape, and one report per
 * location however many ask. In local development `?fresh` skips the cache, so the bench and
 * the tests read exact figures.
 */
async function cached<T>(c: Context<{ Bindings: Env }>, path: string, compute: () => Promise<T>): Promise<T> {
  if (c.env.LOCAL_DEVELOPMENT === "true" && c.req.query("fresh") !== undefined) return compute();
  const key = new Request(new URL(path, c.req.url));
  const hit = await caches.default.match(key);
  if (hit) return hit.json<T>();
  const value = await compute();
  c.executionCtx.waitUntil(caches.default.put(key, Response.json(value, { headers: PUBLIC_CACHE })));
  return value;
}

async function readJson(request: Request): Promise<unknown> {
  // Only JSON: a form or text/plain POST is what a foreign page can send without asking first.
  const type = request.headers.get("Content-Type")?.split(";")[0].trim().toLowerCase();
  if (type !== "application/json")
    throw new ApiError(
      415,
      "unsupported_media_type",
      "The request body must be sent as Content-Type: application/json.",
    );
  const declared = Number(request.headers.get("Content-Length") ?? 0);
  if (declared > LIMITS.bodyBytes) throw tooLarge();
  const text = await readBounded(request, LIMITS.bodyBytes, BODY_DEADLINE_MS);
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, "invalid_json", "The request body must be valid JSON.");
  }
}

/** A match body is a few hundred bytes: one that takes longer than this is trickling on purpose. */
const BODY_DEADLINE_MS = 5_000;

/**
 * At most `max` bytes within `deadlineMs`, whatever `Content-Length` says (or does not): a body
 * that trickles, never ends or keeps growing costs its sender, not the isolate. A body whose
 * sender gave up is its sender's problem, not an error of ours.
 */
async function readBounded(request: Request, max: number, deadlineMs: number): Promise<string> {
  if (!request.body) return "";
  let late: (err: ApiError) => void = () => {};
  const deadline = new Promise<never>((_, reject) => (late = reject));
  const timer = setTimeout(
    () => late(new ApiError(408, "request_timeout", `The request body must arrive within ${deadlineMs / 1000} s.`)),
    deadlineMs,
  );
  // With a length declared (and already checked against `max`) the runtime reads no further, so
  // the whole body is read natively; without one, it is counted as it streams.
  const reading = request.headers.has("Content-Length") ? request.text() : readCounted(request.body, max);
  try {
    return await Promise.race([reading, deadline]);
  } catch (err) {
    // A late body is left unread: the runtime drops it with the request once we have answered.
    if (err instanceof ApiError) throw err;
    throw new ApiError(400, "body_incomplete", "The request body did not arrive in full.");
  } finally {
    clearTimeout(timer);
    reading.catch(() => {});
  }
}

async function readCounted(body: ReadableStream<Uint8Array>, max: number): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > max) throw tooLarge();
    text += decoder.decode(chunk, { stream: true });
  }
  return text + decoder.decode();
}

const tooLarge = () =>
  new ApiError(413, "body_too_large", `The request body must be at most ${LIMITS.bodyBytes} bytes.`);

function validate<S extends z.ZodType>(schema: S, input: unknown, code: "invalid_body" | "invalid_query"): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue.path.join(".");
  throw new ApiError(400, code, field ? `${field}: ${issue.message}` : issue.message);
}

export default app satisfies ExportedHandler<Env>;
