/**
 * HTTP entry point. Routes are thin: validate with zod, call one function, and let the
 * single `onError` turn every failure into the JSON error envelope.
 */
import { Hono } from "hono";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { allowedOrigins } from "./config";
import { ApiError, errorResponse, rateLimited } from "./errors";
import { log } from "./log";
import { match } from "./matchmaker";
import { roomStub, seatStub } from "./stubs";
import { fingerprint } from "./identity";
import { statsReport } from "./stats";
import { CHAT_PATH, ChatQuery, LIMITS, MatchRequest, WAIT_PATH, WaitQuery } from "./protocol";
import type { z } from "zod";

export { ChatRoom } from "./chat-room";
export { Device } from "./device";
export { MatchQueue } from "./match-queue";
export { Stats } from "./stats";
export { WaitingSeat } from "./waiting-seat";

const app = new Hono<{ Bindings: Env }>();

/** The page's own origin always works; others only when listed in ALLOWED_ORIGINS. */
const originAllowed = (origin: string, requestUrl: string, env: Env): boolean =>
  origin === new URL(requestUrl).origin || allowedOrigins(env).includes(origin);

app.use(
  "/api/*",
  cors({
    origin: (origin, c) => (originAllowed(origin, c.req.url, c.env) ? origin : null),
    allowMethods: ["GET", "POST", "OPTIONS"],
    allowHeaders: ["Content-Type"],
    maxAge: 600,
  }),
);

app.get("/api/health", (c) => c.json({ ok: true }));

/** Counts only: safe to expose, and cheap (a few numbers held in one object's memory). */
app.get("/api/stats", async (c) => c.json(await statsReport(c.env)));

app.post("/api/match", async (c) => {
  await limit(c.env.MATCH_PER_IP, clientAddress(c.req.raw), "match_ip");
  const body = validate(MatchRequest, await readJson(c.req.raw), "invalid_body");
  const device = await fingerprint(body.deviceId);
  await limit(c.env.MATCH_PER_DEVICE, device, "match_device");
  const result = await match(c.env, body, device, new URL(c.req.url).origin);
  return c.json(result);
});

/** The two sockets: a chat (one room per pairing) and a wait (one seat per waiter). Each identifies itself in its first frame. */
app.get(CHAT_PATH, async (c) => {
  upgradeFrom(c.req.raw, c.env);
  const { sessionId } = validate(ChatQuery, c.req.query(), "invalid_query");
  return roomStub(c.env, sessionId).fetch(c.req.raw);
});

app.get(WAIT_PATH, async (c) => {
  upgradeFrom(c.req.raw, c.env);
  const { seat } = validate(WaitQuery, c.req.query(), "invalid_query");
  return seatStub(c.env, seat).fetch(c.req.raw);
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

/** A socket may only be opened as a WebSocket, and from a browser only by the page's own origin or an allowed one. */
function upgradeFrom(request: Request, env: Env): void {
  if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
    throw new ApiError(426, "upgrade_required", "This endpoint only accepts WebSocket upgrades.");
  }
  const origin = request.headers.get("Origin");
  if (origin && !originAllowed(origin, request.url, env)) {
    throw new ApiError(403, "origin_not_allowed", `Connections from ${origin} are not allowed.`);
  }
}

/**
 * The caller's address as Cloudflare's edge reports it. Without it (local `wrangler dev`,
 * tests) or on loopback there is no network to tell apart, so only the device budget applies.
 */
function clientAddress(request: Request): string | null {
  const ip = request.headers.get("CF-Connecting-IP");
  return ip && ip !== "127.0.0.1" && ip !== "::1" ? ip : null;
}

async function limit(limiter: RateLimit, key: string | null, name: string): Promise<void> {
  if (key === null || (await limiter.limit({ key })).success) return;
  log("ratelimit.hit", { limiter: name }, "warn");
  throw rateLimited("match requests");
}

async function readJson(request: Request): Promise<unknown> {
  const declared = Number(request.headers.get("Content-Length") ?? 0);
  if (declared > LIMITS.bodyBytes) throw tooLarge();
  const text = await request.text();
  if (text.length > LIMITS.bodyBytes) throw tooLarge();
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, "invalid_json", "The request body must be valid JSON.");
  }
}

const tooLarge = () => new ApiError(413, "body_too_large", `The request body must be at most ${LIMITS.bodyBytes} bytes.`);

function validate<S extends z.ZodType>(schema: S, input: unknown, code: "invalid_body" | "invalid_query"): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue.path.join(".");
  throw new ApiError(400, code, field ? `${field}: ${issue.message}` : issue.message);
}

export default app satisfies ExportedHandler<Env>;
