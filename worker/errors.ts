import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ErrorCode, ErrorResponse } from "./protocol";

/** The one error envelope every HTTP error uses, from the routes and from the room alike. */
export function errorResponse(status: ContentfulStatusCode, code: ErrorCode, message: string): Response {
  const body: ErrorResponse = { success: false, error: { code, message } };
  return Response.json(body, { status });
}

/** Thrown by anything behind a route; the app's one `onError` turns it into the envelope. */
export class ApiError extends HTTPException {
  constructor(
    status: ContentfulStatusCode,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(status, { message });
  }

  override getResponse(): Response {
    return errorResponse(this.status as ContentfulStatusCode, this.code, this.message);
  }
}
