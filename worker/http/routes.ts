/**
 * The HTTP routes. Each is thin: check the request (guards.ts), validate with zod (body.ts),
 * call one function, and let the single `onError` turn every failure into the JSON error envelope.
 */
import { CHAT_PATH, WAIT_PATH } from "@strangers/protocol";
import { AroundQuery, ChatQuery, MatchRequestSchema, WaitQuery } from "@strangers/protocol/schemas";
import { Hono } from "hono";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { match, parseLobbyName } from "../matching/matchmaker";
import { queueKeyOf } from "../matching/pairing";
import { policy } from "../platform/config";
import { ApiError, errorResponse } from "../platform/errors";
import { log } from "../platform/log";
import { meter } from "../platform/metering";
import { lobbyStub, roomStub } from "../platform/stubs";
import { aroundFigures, aroundTable } from "../stats/around";
import { offeredQueue, publicView, statsReport } from "../stats/stats";
import { networkKey } from "../trust/client-address";
import { fingerprint } from "../trust/identity";
import { readJson, validate } from "./body";
import { cached, PUBLIC_CACHE } from "./cache";
import { admitted, checkOrigin, limit, upgradeFrom } from "./guards";

const app = new Hono<{ Bindings: Env }>();

// Every request the Worker serves (the page itself is served by Static Assets, not counted): the bench's cost model reads it.
app.use("*", async (_c, next) => {
  meter("worker.request");
  await next();
});

/**
 * A browser on a foreign page is refused outright, whatever the method: CORS alone only hides
 * the answer from that page, while the request (a wait in the queue) would still be made.
 * Native apps send no Origin.
 */
app.use("/api/*", async (c, next) => {
  checkOrigin(c.req.raw, c.env);
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

export default app;
