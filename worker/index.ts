/**
 * HTTP entry point. Routes are thin: validate with zod, call one function, and let the
 * single `onError` turn every failure into the JSON error envelope.
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { ApiError, errorResponse } from "./errors";
import { log } from "./log";
import { match, roomStub } from "./matchmaker";
import { ChatQuery, LIMITS, MatchRequest } from "./protocol";
import type { z } from "zod";

export { ChatRoom } from "./chat-room";

const app = new Hono<{ Bindings: Env }>();

app.get("/api/health", (c) => c.json({ ok: true }));

app.post("/api/match", async (c) => {
  const body = validate(MatchRequest, await readJson(c.req.raw), "invalid_body");
  const result = await match(c.env, body, new URL(c.req.url).origin);
  return c.json(result);
});

app.get("/chat", async (c) => {
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
    throw new ApiError(426, "upgrade_required", "This endpoint only accepts WebSocket upgrades.");
  }
  const query = validate(ChatQuery, c.req.query(), "invalid_query");
  if (!query.token) throw new ApiError(401, "missing_token", "A token is required to join this chat.");
  return roomStub(c.env, query.sessionId).fetch(c.req.raw);
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
