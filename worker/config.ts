import { GUIDELINES_VERSION, type Policy } from "@strangers/protocol";
import type { Budget } from "./flood-guard";

/** Settings come from wrangler `vars`, so tests and demos can shorten them. */
const seconds = (raw: string | undefined, fallback: number): number => {
  const n = Number(raw);
  return (Number.isFinite(n) && n > 0 ? n : fallback) * 1000;
};

export type Timings = {
  /** The longest a wait lives without a poll or a live waiting socket. */
  queueTtlMs: number;
  /** How often a waiter without an open waiting socket polls. */
  pollAfterMs: number;
  /** A poll counts as presence this long: two poll intervals and a little network slack. */
  pollPresenceMs: number;
  /** How long a room lives without activity before its alarm deletes it. */
  roomIdleMs: number;
  /** A socket that has not pinged (or sent anything) for this long is treated as gone. */
  heartbeatTimeoutMs: number;
  /** Both people must connect to their chat within this of being paired, or the pairing is undone. */
  connectWindowMs: number;
};

/** Network slack on top of two poll intervals before a poller counts as gone. */
const POLL_SLACK_MS = 1000;

export function timings(env: Env): Timings {
  const queueTtlMs = seconds(env.QUEUE_TTL_SECONDS, 30);
  const pollAfterMs = Math.min(3000, Math.floor(queueTtlMs / 4));
  return {
    queueTtlMs,
    pollAfterMs,
    pollPresenceMs: Math.min(queueTtlMs, 2 * pollAfterMs + POLL_SLACK_MS),
    roomIdleMs: seconds(env.ROOM_IDLE_SECONDS, 300),
    heartbeatTimeoutMs: seconds(env.HEARTBEAT_TIMEOUT_SECONDS, 30),
    connectWindowMs: seconds(env.CONNECT_WINDOW_SECONDS, 10),
  };
}

export function widening(env: Env): { emotionAfterMs: number; languageAfterMs: number } {
  return {
    emotionAfterMs: seconds(env.WIDEN_EMOTION_SECONDS, 15),
    languageAfterMs: seconds(env.WIDEN_LANGUAGE_SECONDS, 30),
  };
}

export type AbuseSettings = {
  rematchCooldownMs: number;
  blockMs: number;
  reportThreshold: number;
  reportWindowMs: number;
  banMs: number;
};

export function abuseSettings(env: Env): AbuseSettings {
  return {
    rematchCooldownMs: seconds(env.REMATCH_COOLDOWN_SECONDS, 600),
    blockMs: seconds(env.BLOCK_SECONDS, 30 * 86400),
    reportThreshold: Math.max(1, Math.floor(Number(env.REPORT_THRESHOLD) || 3)),
    reportWindowMs: seconds(env.REPORT_WINDOW_SECONDS, 86400),
    banMs: seconds(env.BAN_SECONDS, 86400),
  };
}

/** Share (0–1) of chat messages logged one line each (one in a hundred unless set: wrangler.toml says why). */
export function messageLogSampleRate(env: Env): number {
  const rate = Number(env.MESSAGE_LOG_SAMPLE_RATE ?? DEFAULT_MESSAGE_LOG_RATE);
  return Number.isFinite(rate) ? Math.min(1, Math.max(0, rate)) : DEFAULT_MESSAGE_LOG_RATE;
}
const DEFAULT_MESSAGE_LOG_RATE = 0.01;

/** Origins allowed to call the API and open sockets from a browser, besides the page's own. */
export const allowedOrigins = (env: Env): string[] =>
  (env.ALLOWED_ORIGINS ?? "")
    .split(",")
    .map((o) => o.trim())
    .filter(Boolean);

/** KV rejects an expirationTtl under 60 s, so KV expiry only garbage-collects; the window is enforced in code. */
export const kvExpirationTtl = (t: Timings): number => Math.max(60, Math.ceil((t.queueTtlMs * 2) / 1000));

/** What a client shows before the first chat: the age the operator set, and the pages served as static assets. */
export function policy(env: Env): Policy {
  const age = Math.floor(Number(env.MINIMUM_AGE));
  return {
    minimumAge: Number.isFinite(age) && age >= 13 ? age : 18,
    guidelinesVersion: GUIDELINES_VERSION,
    guidelines: "/guidelines",
    terms: "/terms",
    privacy: "/privacy",
  };
}

/** A device's match requests: MATCHES_PER_DEVICE per 10 s (default 20), all of them at once if it likes. */
export function deviceMatchBudget(env: Env): Budget {
  const n = Math.floor(Number(env.MATCHES_PER_DEVICE));
  const burst = Number.isFinite(n) && n >= 1 ? n : 20;
  return { burst, perSecond: burst / 10 };
}

/**
 * Languages whose lobby is split into one per feeling (LOBBY_SPLIT_LANGUAGES, comma-separated
 * tags): for a language busy enough to pass one object's request budget (README: Capacity).
 */
export const splitLanguages = (env: Env): string[] =>
  (env.LOBBY_SPLIT_LANGUAGES ?? "")
    .split(",")
    .map((l) => l.trim().toLowerCase())
    .filter(Boolean);

/** How many match requests one isolate serves at once (MATCH_CONCURRENCY, default 128). */
export function matchConcurrency(env: Env): number {
  const n = Math.floor(Number(env.MATCH_CONCURRENCY));
  return Number.isFinite(n) && n >= 1 ? n : 128;
}
