/**
 * Values the worker and every client share. Dependency-free on purpose: a client imports
 * them without pulling zod into its bundle, and k6 can load them as is.
 */

/** Sent in every `welcome` and `waiting` frame; bumped on every incompatible change (README: "Protocol versions"). */
export const PROTOCOL_VERSION = 3;

export const LIMITS = {
  idLength: 128,
  nameLength: 40,
  emotionLength: 16,
  /** Long enough for a language's name with its region ("Português (Brasil)"). */
  languageLength: 40,
  modeLength: 16,
  /** Interest tags: optional, a few short words each, so they fit a queue entry's metadata. */
  interests: 3,
  interestLength: 24,
  messageLength: 2000,
  historySize: 20,
  /** Frames are JSON; a 2000-character message escapes to well under this. */
  frameBytes: 16 * 1024,
  bodyBytes: 4 * 1024,
} as const;

/**
 * One spelling per interest, so "#Chess", "chess " and "CHESS" meet: compatibility letters
 * folded, lower case, a leading "#" dropped, runs of spaces and "_" made one space. The server
 * applies it to what it is sent; the page to what it shows while it searches.
 */
export const spellInterest = (tag: string): string =>
  tag
    .normalize("NFKC")
    .trim()
    .toLowerCase()
    .replace(/^#+/, "")
    .replace(/[\s_]+/g, " ")
    .trim();

/**
 * A message as the server keeps it: characters that only hide or reorder text dropped (C0 and
 * C1 controls but tab and line feed, the soft hyphen, bidi controls, zero-width space,
 * separators, invisible operators, the BOM), NFC, trimmed. The client applies the same before
 * it checks the length, so what it lets through the server takes.
 */
export const cleanMessage = (s: string): string => s.replace(HIDDEN_IN_MESSAGES, "").normalize("NFC").trim();
const HIDDEN_IN_MESSAGES =
  /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u00AD\u200B\u200E\u200F\u2028-\u202E\u2060-\u2064\u2066-\u206F\uFEFF]/g;

/** Bumped whenever the community guidelines change: everyone is asked to accept them again. */
export const GUIDELINES_VERSION = 1;

export const REPORT_REASONS = ["spam", "harassment", "sexual", "hate", "underage", "other"] as const;

/** The feelings and languages the page offers (apps may send others); /api/stats shows these queues by name. */
export const EMOTIONS = ["😊", "😢", "😡", "😰", "🥱", "🤩", "😌"] as const;
export const LANGUAGES = ["en", "es", "pt", "fr", "de", "it", "hi", "ar", "ja"] as const;

/** WebSocket close codes, so clients can tell "stop" from "reconnect". */
export const CLOSE = {
  normal: 1000,
  /** Another connection with the same token took over; do not reconnect from here. */
  replaced: 4001,
  /** The chat or the wait ended (leave, report, idle, expiry): start a new match instead of reconnecting. */
  ended: 4002,
  /** The wait is over: the `matched` frame just sent says where the chat is. */
  matched: 4003,
  /** No ping or frame within the heartbeat timeout: the connection is presumed dead. Reconnect. */
  stale: 4004,
  /** Kept sending past the frame budget. Reconnect later, slower. */
  flooding: 4008,
  /** The first frame was not a `hello` with this socket's token. Do not retry with the same token. */
  unauthorized: 4401,
} as const;

/**
 * Heartbeats. The runtime answers the exact ping text itself (`setWebSocketAutoResponse`),
 * without waking the object, and records when; it is also how a client tells a dead
 * connection from a quiet one (no pong within a few intervals).
 */
export const PING = '{"type":"ping"}';
export const PONG = '{"type":"pong"}';
export const HEARTBEAT_INTERVAL_MS = 10_000;

/**
 * How many objects share each sharded job (worker/platform/stubs.ts). Each is single-threaded with a
 * soft limit of about 1,000 requests a second; the bench's capacity model reads these.
 */
export const SHARDS = { devices: 64, stats: 8 } as const;

/** Paths of the two sockets: the wait (held by the queue's lobby) and the chat (a room). */
export const WAIT_PATH = "/wait";
export const CHAT_PATH = "/chat";

/** The one place that knows how a socket URL is built; secrets never go in it. */
function socketUrl(origin: string, path: string, params: Record<string, string>): string {
  const url = new URL(path, origin);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url.toString();
}

export const chatUrl = (origin: string, sessionId: string): string => socketUrl(origin, CHAT_PATH, { sessionId });
/** A waiting socket: the lobby that holds the wait, and the wait. */
export const waitUrl = (origin: string, lobby: string, seat: string): string =>
  socketUrl(origin, WAIT_PATH, { lobby, seat });

/** A wait's ticket is `<seat>.<token>`; the waiting socket's `hello` carries the token. */
export const ticketToken = (ticket: string): string => ticket.slice(ticket.indexOf(".") + 1);
