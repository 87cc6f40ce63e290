import type { ErrorCode, ErrorResponse } from "@strangers/protocol";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

type ErrorExtra = Omit<ErrorResponse["error"], "code" | "message">;

/** The one error envelope every HTTP error uses, from the routes and from the room alike. */
export function errorResponse(
  status: ContentfulStatusCode,
  code: ErrorCode,
  message: string,
  extra: ErrorExtra = {},
): Response {
  const body: ErrorResponse = { success: false, error: { code, message, ...extra } };
  const headers: HeadersInit = extra.retryAfterSeconds ? { "Retry-After": String(extra.retryAfterSeconds) } : {};
  return Response.json(body, { status, headers });
}

/** Thrown by anything behind a route; the app's one `onError` turns it into the envelope. */
export class ApiError extends HTTPException {
  constructor(
    status: ContentfulStatusCode,
    readonly code: ErrorCode,
    message: string,
    readonly extra: ErrorExtra = {},
  ) {
    super(status, { message });
  }

  override getResponse(): Response {
    return errorResponse(this.status as ContentfulStatusCode, this.code, this.message, this.extra);
  }
}

/** The rate-limit binding counts in fixed windows of 10 s: retrying sooner is pointless. */
const RETRY_AFTER_SECONDS = 10;

/** Every 429, from the routes (thrown) and the room (its response), says the same thing; a budget that knows when it refills says when. */
export const rateLimited = (what: string, retryAfterSeconds = RETRY_AFTER_SECONDS): ApiError =>
  new ApiError(429, "rate_limited", `Too many ${what}; slow down.`, { retryAfterSeconds });

/** Sooner than a rate limit's window: a busy server is usually a moment's burst. */
const BUSY_RETRY_SECONDS = 2;

export const busy = (): ApiError =>
  new ApiError(503, "busy", "Too many people are looking right now; trying again in a moment.", {
    retryAfterSeconds: BUSY_RETRY_SECONDS,
  });
