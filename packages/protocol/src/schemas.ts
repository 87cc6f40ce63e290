/**
 * The server's side of the wire protocol: zod schemas that check and clean what clients
 * send. The types they produce are the plain ones in `wire.ts` (a client needs no zod);
 * the assertions at the end keep the two from drifting apart.
 */
import { z } from "zod";
// With its extension: Node runs the load tests by stripping types, and they import this module.
import { cleanMessage, LIMITS, REPORT_REASONS, spellInterest } from "./constants.ts";
import { languageByName } from "./languages.ts";
import { ANY, type ClientFrame, ERROR_CODES, type MatchRequest } from "./wire.ts";

/**
 * Characters that only hide or reorder text: C0 and C1 controls, the soft hyphen, bidi
 * controls, zero-width space, line and paragraph separators, invisible operators, the BOM
 * (hidden inside a word, they would also slip it past the moderation filter). The joiners (ZWJ, ZWNJ)
 * are not among them: emoji sequences and several scripts (Hindi, Persian) need them.
 */
const HIDDEN = /[\u0000-\u001F\u007F-\u009F\u00AD\u200B\u200E\u200F\u2028-\u202E\u2060-\u2064\u2066-\u206F\uFEFF]/;
/** A surrogate without its pair: not text, and it breaks encodeURIComponent and UTF-8. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Variation selectors only choose how a symbol is drawn: ☺ and ☺️ are one feeling. */
const VARIATION_SELECTORS = /[\uFE0E\uFE0F]/g;

const wellFormed = (s: string) => !LONE_SURROGATE.test(s);

/** Text a person chose (a name, a feeling): valid Unicode with nothing hidden, NFC, trimmed. */
const visibleText = (field: string, max: number) =>
  z
    .string({ error: `${field} must be a string` })
    .max(max * 4, `${field} must be at most ${max} characters`)
    .refine(wellFormed, `${field} must be valid Unicode text`)
    .refine((s) => !HIDDEN.test(s), `${field} must not contain control or invisible characters`)
    .transform((s) => s.normalize("NFC").trim())
    .pipe(z.string().max(max, `${field} must be at most ${max} characters`));

const id = (field: string) =>
  z
    .string({ error: `${field} must be a string` })
    .trim()
    .min(1, `${field} is required`)
    .max(LIMITS.idLength, `${field} must be at most ${LIMITS.idLength} characters`)
    .refine(wellFormed, `${field} must be valid Unicode text`);

const anyIfBlank = (s: string) => (s && s !== ANY ? s : ANY);

/**
 * The criteria become queue keys, so each has one spelling: an emotion without variation
 * selectors and case-folded; a language by its BCP 47 primary tag ("pt-BR" and "PT" are "pt");
 * a mode of letters, digits and dashes. Absent, empty or "any" all mean "anyone".
 */
const emotion = visibleText("emotion", LIMITS.emotionLength).transform((s) =>
  anyIfBlank(s.replace(VARIATION_SELECTORS, "").toLowerCase()),
);
const LANGUAGE_TAG = /^([a-z]{2,3})(?:[-_][a-z0-9]{1,8})*$/i;
/** A tag by its primary subtag, or a language's name in English or in its own words ("English", "Español", "日本語"). */
const language = visibleText("language", LIMITS.languageLength).transform((s, ctx) => {
  if (!s || s.toLowerCase() === ANY) return ANY;
  const tag = LANGUAGE_TAG.exec(s)?.[1] ?? languageByName(s);
  if (tag) return canonicalLanguage(tag.toLowerCase());
  ctx.addIssue({
    code: "custom",
    message:
      "language must be a language tag such as en or pt-BR, or a language's name such as English, Español or 日本語",
  });
  return z.NEVER;
});
/** One spelling per language, by the aliases Intl applies: "eng" is "en", "tl" and "Filipino" are "fil", and "Lao" (a name that is also a code) is "lo". */
function canonicalLanguage(subtag: string): string {
  try {
    return new Intl.Locale(subtag).language;
  } catch {
    // A runtime without Intl.Locale (some mobile engines): the tag as written.
    return subtag;
  }
}
const mode = visibleText("mode", LIMITS.modeLength)
  .refine((s) => /^[a-z0-9-]*$/i.test(s), "mode must be letters, digits or -")
  .transform((s) => anyIfBlank(s.toLowerCase()));
/**
 * An interest tag, in its one spelling (`spellInterest`). Letters, digits, spaces and dashes
 * only (a tag is shown to the stranger who shares it: no links).
 */
const interest = visibleText("interests", LIMITS.interestLength * 2)
  .transform(spellInterest)
  .pipe(
    z
      .string()
      .max(LIMITS.interestLength, `each interest must be at most ${LIMITS.interestLength} characters`)
      .regex(/^[\p{L}\p{M}\p{N} -]*$/u, "an interest may only hold letters, digits, spaces and dashes"),
  );
const interests = z
  .array(interest, { error: "interests must be a list of words" })
  .max(LIMITS.interests, `at most ${LIMITS.interests} interests`)
  .optional()
  .transform((tags) => [...new Set((tags ?? []).filter(Boolean))]);
const optional = <T extends z.ZodType<string, string>>(schema: T) =>
  schema
    .optional()
    .nullable()
    .transform((s) => s ?? ANY);

// ---------------------------------------------------------------- HTTP

export const MatchRequestSchema = z.object({
  userId: id("userId"),
  deviceId: id("deviceId"),
  userName: visibleText("userName", LIMITS.nameLength)
    .optional()
    .transform((s) => s || "Stranger"),
  emotion: optional(emotion),
  language: optional(language),
  mode: optional(mode),
  /** Up to three interests: within a queue, a stranger sharing one is preferred; nobody waits longer for them. */
  interests,
  /** After a while without a partner, also accept strangers who speak another language. */
  anyLanguage: z
    .boolean({ error: "anyLanguage must be a boolean" })
    .optional()
    .transform((b) => b ?? false),
  /** A Turnstile token, when the server asked for a human check (`bot_check_required`). */
  turnstileToken: z
    .string({ error: "turnstileToken must be a string" })
    .max(2048, "turnstileToken is too long")
    .optional(),
  /** Returned by a previous call while waiting: the secret that lets you follow up on that wait. */
  ticket: z.string({ error: "ticket must be a string" }).max(200, "ticket is too long").optional(),
});
export type ParsedMatchRequest = z.output<typeof MatchRequestSchema>;

export const ErrorCodeSchema = z.enum(ERROR_CODES);

const socketId = z.string().regex(/^[A-Za-z0-9_-]{10,64}$/, "must be 10 to 64 letters, digits, - or _");
export const ChatQuery = z.object({ sessionId: socketId });
/** A waiting socket: the lobby that holds the wait (checked against the queues it can name), and the wait. */
export const WaitQuery = z.object({
  lobby: z.string({ error: "lobby is required" }).min(3).max(100, "lobby is too long"),
  seat: socketId,
});
/** A queue's criteria, each in its one spelling: what a lobby's name is made of. */
export const Criteria = z.object({ mode, language, emotion });
export type Criteria = z.output<typeof Criteria>;
/** `GET /api/around`: the figures for the queue these criteria wait in. */
export const AroundQuery = z.object({ emotion: optional(emotion), language: optional(language), mode: optional(mode) });

// ---------------------------------------------------------------- WebSocket: client → server

export const ClientFrameSchema = z.discriminatedUnion(
  "type",
  [
    /** The first frame on every socket: the secret that proves whose socket this is. */
    z.object({
      type: z.literal("hello"),
      token: z.string({ error: "token must be a string" }).min(1, "token is required").max(200, "token is too long"),
    }),
    z.object({
      type: z.literal("message"),
      text: z
        .string({ error: "text must be a string" })
        .refine(wellFormed, "text must be valid Unicode text")
        .transform(cleanMessage)
        .pipe(
          z
            .string()
            .min(1, "text must not be empty")
            .max(LIMITS.messageLength, `text must be at most ${LIMITS.messageLength} characters`),
        ),
      /** Optional client nonce, echoed back so a sender can reconcile its optimistic copy. */
      clientId: z
        .string({ error: "clientId must be a string" })
        .regex(/^[A-Za-z0-9_-]{1,64}$/, "clientId must be 1 to 64 letters, digits, - or _")
        .optional(),
    }),
    z.object({ type: z.literal("typing"), isTyping: z.boolean({ error: "isTyping must be a boolean" }) }),
    z.object({ type: z.literal("leave") }),
    /** Ends the chat, and the reporter never meets that stranger again. */
    z.object({
      type: z.literal("report"),
      reason: z.enum(REPORT_REASONS, { error: `reason must be one of ${REPORT_REASONS.join(", ")}` }),
    }),
    z.object({ type: z.literal("ping") }),
  ],
  { error: "type must be one of hello, message, typing, leave, report, ping" },
);
export type ParsedClientFrame = z.output<typeof ClientFrameSchema>;

// The plain types are what clients compile against; these fail the build if a schema drifts from them.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const matchRequestAgrees: Same<z.input<typeof MatchRequestSchema>, MatchRequest> = true;
const clientFrameAgrees: Same<z.input<typeof ClientFrameSchema>, ClientFrame> = true;
void [matchRequestAgrees, clientFrameAgrees];
