/**
 * The service's settings, from wrangler `vars` (tests and demos shorten them), parsed by one
 * zod schema. The worker parses them when it loads (worker/index.ts), so a bad value stops it
 * there, named (`config.invalid`), instead of quietly falling back to a default nobody chose;
 * test/config.test.ts parses every deployed environment's vars from wrangler.toml.
 */
import { GUIDELINES_VERSION, type Policy } from "@strangers/protocol";
import { z } from "zod";
import type { Budget } from "./flood-guard";
import { log } from "./log";

/** A var left out, or set to "" (or blanks) in wrangler.toml, takes its default. */
const unset = (v: unknown) => (v === null || (typeof v === "string" && v.trim() === "") ? undefined : v);
const number = (fallback: number, check: (n: z.ZodNumber) => z.ZodNumber) =>
  z.preprocess(unset, check(z.coerce.number({ error: "must be a number" })).default(fallback));
const seconds = (fallback: number) =>
  number(fallback, (n) => n.positive("must be more than 0")).transform((s) => s * 1000);
const count = (fallback: number, min = 1) =>
  number(fallback, (n) => n.int("must be a whole number").min(min, `must be at least ${min}`));
const oneOf = <const T extends readonly [string, ...string[]]>(values: T, fallback: T[number]) =>
  z.preprocess(
    (v) => (typeof v === "string" ? unset(v.trim().toLowerCase()) : unset(v)),
    z.enum(values, { error: `must be one of ${values.join(", ")}` }).default(fallback),
  );
const list = (normalise: (s: string) => string = (s) => s) =>
  z.preprocess(
    unset,
    z
      .string({ error: "must be a comma-separated list" })
      .default("")
      .transform((s) => s.split(",").map(normalise).filter(Boolean)),
  );

const SettingsSchema = z.object({
  /** The longest a wait lives without a poll or a live waiting socket. */
  QUEUE_TTL_SECONDS: seconds(30),
  /** Both people must connect to their chat within this of being paired, or the pairing is undone. */
  CONNECT_WINDOW_SECONDS: seconds(10),
  /** How long a room lives without activity before its alarm deletes it. */
  ROOM_IDLE_SECONDS: seconds(300),
  /** A socket that has not pinged (or sent anything) for this long is treated as gone. */
  HEARTBEAT_TIMEOUT_SECONDS: seconds(30),
  WIDEN_EMOTION_SECONDS: seconds(15),
  WIDEN_LANGUAGE_SECONDS: seconds(30),
  REMATCH_COOLDOWN_SECONDS: seconds(600),
  BLOCK_SECONDS: seconds(30 * 86400),
  REPORT_THRESHOLD: count(3),
  REPORT_WINDOW_SECONDS: seconds(86400),
  BAN_SECONDS: seconds(86400),
  /** Share (0–1) of chat messages logged one line each (wrangler.toml says why one in a hundred). */
  MESSAGE_LOG_SAMPLE_RATE: number(0.01, (n) => n.min(0, "must be between 0 and 1").max(1, "must be between 0 and 1")),
  /** Origins allowed to call the API and open sockets from a browser, besides the page's own. */
  ALLOWED_ORIGINS: list((o) => o.trim()),
  MINIMUM_AGE: count(18, 13),
  /** A device's match requests per 10 s, all of them at once if it likes. */
  MATCHES_PER_DEVICE: count(20),
  /** Languages whose lobby is split into one per feeling: for a language busy enough to pass one object's request budget (README: Capacity). */
  LOBBY_SPLIT_LANGUAGES: list((l) => l.trim().toLowerCase()),
  /** How many new searches one isolate decides at once. */
  MATCH_CONCURRENCY: count(128),
  /** Where a lobby keeps its copy of lasting waits. */
  MATCHMAKER: oneOf(["kv", "durable-object"], "kv"),
  /** What the moderation filter does with what it finds (README: Moderation). */
  MODERATION_ACTION: oneOf(["mask", "refuse", "off"], "mask"),
  /** Only on one's own machine: requests without an address, or from loopback, skip the per-address limits. */
  LOCAL_DEVELOPMENT: oneOf(["true", "false"], "false").transform((v) => v === "true"),
});
export type Settings = z.output<typeof SettingsSchema>;
/** The part of the environment the settings are read from (any object with some of the vars). */
export type Vars = { [K in keyof z.input<typeof SettingsSchema>]?: unknown };

const parsed = new WeakMap<object, Settings>();

/** The settings of this environment, parsed on first use. */
export function settings(env: Vars): Settings {
  let s = parsed.get(env);
  if (s) return s;
  const result = SettingsSchema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".")} ${i.message}`);
    log("config.invalid", { problems: problems.join("; ") }, "error");
    throw new Error(`Invalid settings in wrangler vars: ${problems.join("; ")}`);
  }
  s = result.data;
  parsed.set(env, s);
  return s;
}

export type Timings = {
  queueTtlMs: number;
  /** How often a waiter without an open waiting socket polls. */
  pollAfterMs: number;
  /** A poll counts as presence this long: two poll intervals and a little network slack. */
  pollPresenceMs: number;
  roomIdleMs: number;
  heartbeatTimeoutMs: number;
  connectWindowMs: number;
};

/** Network slack on top of two poll intervals before a poller counts as gone. */
const POLL_SLACK_MS = 1000;

export function timings(env: Env): Timings {
  const s = settings(env);
  const queueTtlMs = s.QUEUE_TTL_SECONDS;
  const pollAfterMs = Math.min(3000, Math.floor(queueTtlMs / 4));
  return {
    queueTtlMs,
    pollAfterMs,
    pollPresenceMs: Math.min(queueTtlMs, 2 * pollAfterMs + POLL_SLACK_MS),
    roomIdleMs: s.ROOM_IDLE_SECONDS,
    heartbeatTimeoutMs: s.HEARTBEAT_TIMEOUT_SECONDS,
    connectWindowMs: s.CONNECT_WINDOW_SECONDS,
  };
}

export function widening(env: Env): { emotionAfterMs: number; languageAfterMs: number } {
  const s = settings(env);
  return { emotionAfterMs: s.WIDEN_EMOTION_SECONDS, languageAfterMs: s.WIDEN_LANGUAGE_SECONDS };
}

export type AbuseSettings = {
  rematchCooldownMs: number;
  blockMs: number;
  reportThreshold: number;
  reportWindowMs: number;
  banMs: number;
};

export function abuseSettings(env: Env): AbuseSettings {
  const s = settings(env);
  return {
    rematchCooldownMs: s.REMATCH_COOLDOWN_SECONDS,
    blockMs: s.BLOCK_SECONDS,
    reportThreshold: s.REPORT_THRESHOLD,
    reportWindowMs: s.REPORT_WINDOW_SECONDS,
    banMs: s.BAN_SECONDS,
  };
}

export const messageLogSampleRate = (env: Env): number => settings(env).MESSAGE_LOG_SAMPLE_RATE;
export const allowedOrigins = (env: Env): string[] => settings(env).ALLOWED_ORIGINS;
export const splitLanguages = (env: Env): string[] => settings(env).LOBBY_SPLIT_LANGUAGES;
export const matchConcurrency = (env: Env): number => settings(env).MATCH_CONCURRENCY;
export const waitStoreKind = (env: Env): Settings["MATCHMAKER"] => settings(env).MATCHMAKER;
export const localDevelopment = (env: Vars): boolean => settings(env).LOCAL_DEVELOPMENT;

/** KV rejects an expirationTtl under 60 s, so KV expiry only garbage-collects; the window is enforced in code. */
export const kvExpirationTtl = (t: Timings): number => Math.max(60, Math.ceil((t.queueTtlMs * 2) / 1000));

/** What a client shows before the first chat: the age the operator set, and the pages served as static assets. */
export function policy(env: Env): Policy {
  return {
    minimumAge: settings(env).MINIMUM_AGE,
    guidelinesVersion: GUIDELINES_VERSION,
    guidelines: "/guidelines",
    terms: "/terms",
    privacy: "/privacy",
  };
}

/** A device's match budget: MATCHES_PER_DEVICE per 10 s. */
export function deviceMatchBudget(env: Env): Budget {
  const burst = settings(env).MATCHES_PER_DEVICE;
  return { burst, perSecond: burst / 10 };
}
