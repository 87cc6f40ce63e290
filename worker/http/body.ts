/** Reading and checking what a client sends: bounded in size and time, then parsed by its schema. */
import { LIMITS } from "@strangers/protocol";
import type { z } from "zod";
import { ApiError } from "../platform/errors";

export async function readJson(request: Request): Promise<unknown> {
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

export function validate<S extends z.ZodType>(
  schema: S,
  input: unknown,
  code: "invalid_body" | "invalid_query",
): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue.path.join(".");
  throw new ApiError(400, code, field ? `${field}: ${issue.message}` : issue.message);
}
