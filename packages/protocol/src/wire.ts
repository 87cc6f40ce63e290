/**
 * The wire protocol as plain types: every shape that crosses the network, needing nothing
 * at the consumer (no zod). The schemas that check them at the server are in `schemas.ts`,
 * and the compiler holds the two together there.
 */
import type { REPORT_REASONS } from "./constants.ts";

/** Absent, empty or "any": anyone. */
export const ANY = "any";

// ---------------------------------------------------------------- HTTP

/** `POST /api/match`. Every field but the ids may be left out. */
export type MatchRequest = {
  userId: string;
  deviceId: string;
  userName?: string;
  emotion?: string | null;
  language?: string | null;
  mode?: string | null;
  /** Up to three interests: within a queue, a stranger sharing one is preferred; nobody waits longer for them. */
  interests?: string[];
  /** After a while without a partner, also accept strangers who speak another language. */
  anyLanguage?: boolean;
  /** A Turnstile token, when the server asked for a human check (`bot_check_required`). */
  turnstileToken?: string;
  /** Returned by a previous call while waiting: the secret that lets you follow up on that wait. */
  ticket?: string;
};

export type MatchWaiting = {
  success: true;
  matched: false;
  message: string;
  queueKey: string;
  /** Secret: send it back as `ticket` to follow up on this wait, and in the waiting socket's `hello`. */
  ticket: string;
  /** The waiting socket: hold it open and the pairing is pushed to you (a `matched` frame). */
  wsUrl: string;
  /** Without an open waiting socket, poll this often, or you stop being offered to newcomers. */
  pollAfterMs: number;
  /** The longest a wait lives without a poll or a live waiting socket. */
  expiresInMs: number;
  /** When the search widens: to any emotion, then (if `anyLanguage`) to any language; null if never. */
  widening: Widening;
};
export type Widening = { emotionAfterMs: number; languageAfterMs: number | null };

/** Criteria that were relaxed to make a match: empty for an exact one. */
export type Relaxed = "emotion" | "language";

/** Everything a participant needs to join its chat: the same in the HTTP answer and the `matched` frame. */
export type Pairing = {
  sessionId: string;
  /** Secret: send it in the chat socket's `hello`. It never appears in a URL. */
  token: string;
  wsUrl: string;
  /** Opaque alias for this session only: never the partner's userId or deviceId. */
  partnerId: string;
  partnerName: string;
  relaxed: Relaxed[];
  /** Interests both chose (empty when none is shared). */
  shared: string[];
};
export type MatchFound = { success: true; matched: true; queueKey: string } & Pairing;
export type MatchResponse = MatchWaiting | MatchFound;

export const ERROR_CODES = [
  "invalid_json",
  "invalid_body",
  "body_too_large",
  "body_incomplete",
  "request_timeout",
  "invalid_query",
  "ticket_expired",
  "upgrade_required",
  "missing_token",
  "invalid_token",
  "session_not_found",
  "session_ended",
  "not_found",
  "method_not_allowed",
  "internal_error",
  "busy",
  "search_replaced",
  // WebSocket frames
  "invalid_frame",
  "frame_too_large",
  "unsupported_data",
  "not_paired",
  "message_filtered",
  "content_filtered",
  // abuse controls
  "rate_limited",
  "banned",
  "origin_not_allowed",
  "unsupported_media_type",
  "bot_check_required",
  "bot_check_failed",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export type ErrorResponse = {
  success: false;
  error: {
    code: ErrorCode;
    message: string;
    /** With `rate_limited`: when to try again. With `banned`: when the ban ends (ISO 8601). */
    retryAfterSeconds?: number;
    until?: string;
    /** With `bot_check_required` / `bot_check_failed`: the Turnstile site key for the widget. */
    siteKey?: string;
  };
};

/** `GET /api/policy`: what a client must show before the first chat. */
export type Policy = {
  minimumAge: number;
  /** Bumped when the guidelines change: a consent given to an older version is asked again. */
  guidelinesVersion: number;
  guidelines: string;
  terms: string;
  privacy: string;
};

/**
 * `GET /api/around`: coarse figures for the waiting screen, never exact for small numbers.
 * `online` is rounded ("few" under five); `pairedWithinSeconds` is how long three in four
 * people in this queue waited lately, rounded up (null: too few pairings lately to say).
 */
export type Around = { queueKey: string; online: number | "few"; pairedWithinSeconds: number | null };

/**
 * `GET /api/stats`: counts only, never anything about a person. The public view shows small
 * counts as "<5" and only the queues the page offers ("other" sums the rest).
 */
export type StatsSnapshot<Count = number | string> = {
  waiting: { [queue: string]: Count };
  waitingTotal: Count;
  activeRooms: Count;
  pairingsThisMinute: number;
  pairingsLastMinute: number;
  pairingsPerMinute: { minute: string; pairings: number }[];
  since: string;
  /** Chat messages the moderation filter masked or refused, by what it found, since `since`. */
  filtered: { [category: string]: number };
  /** Operations and wake-ups counted by the isolate that answered, since it started (one local runtime: all of them). */
  operations: { [operation: string]: number };
};

// ---------------------------------------------------------------- WebSocket: client → server

export type ReportReason = (typeof REPORT_REASONS)[number];

export type ClientFrame =
  /** The first frame on every socket: the secret that proves whose socket this is. */
  | { type: "hello"; token: string }
  /** `clientId`: optional client nonce, echoed back so a sender can reconcile its optimistic copy. */
  | { type: "message"; text: string; clientId?: string }
  | { type: "typing"; isTyping: boolean }
  | { type: "leave" }
  /** Ends the chat, and the reporter never meets that stranger again. */
  | { type: "report"; reason: ReportReason }
  | { type: "ping" };

// ---------------------------------------------------------------- WebSocket: server → client

/** `masked`: the moderation filter hid parts of the text (shown as •••). */
export type ChatMessage = { id: string; from: string; text: string; at: number; clientId?: string; masked?: true };
export type Partner = { id: string; name: string; online: boolean };
export type CloseReason = "left" | "reported" | "idle" | "expired" | "partner_missing" | "superseded" | "banned";

export type ServerFrame =
  /** Waiting socket, after `hello`: you are in the queue. */
  | { type: "waiting"; v: number; queueKey: string; widening: Widening }
  /** Waiting socket: a stranger is waiting for you in a chat (then the socket closes with 4003). */
  | ({ type: "matched" } & Pairing)
  /** Chat socket, after `hello`: who you are, who the stranger is, the last messages. */
  | {
      type: "welcome";
      v: number;
      sessionId: string;
      you: { id: string; name: string };
      partner: Partner;
      relaxed: Relaxed[];
      shared: string[];
      history: ChatMessage[];
    }
  | ({ type: "message" } & ChatMessage)
  | { type: "typing"; from: string; isTyping: boolean }
  | { type: "partner_joined"; partner: Partner }
  | { type: "partner_offline"; partnerId: string }
  | { type: "partner_online"; partnerId: string }
  | { type: "partner_left"; partnerId: string }
  | { type: "closed"; reason: CloseReason }
  | { type: "pong" }
  /** `clientId` names the refused message, when the refused frame was a message that carried one. */
  | { type: "error"; code: ErrorCode; message: string; clientId?: string };
