/** What a load run measures, the thresholds a run must meet, and the pace of a simulated chat. */
import type { MatchRequest } from "@strangers/protocol";

/** Every metric both generators report, with the kind k6 needs to create it. */
export const METRICS = {
  /** First /api/match request → partner known (a matched answer, or the `matched` frame on the waiting socket). */
  match_time: "trend",
  /** WebSocket handshake: connect() → open. */
  ws_connect_time: "trend",
  /** Sender's clock in the message text → the partner receives it. */
  delivery_latency: "trend",
  /**
   * The same, for messages sent in the steady part of a run (`steadyWindow`): every chat up and
   * talking, after the first exchange (rooms that slept through a quiet ramp wake then) and
   * before the ramp-down (when chats end together). What one relay costs, without the
   * run's own synchronised starts and ends.
   */
  steady_delivery_latency: "trend",
  messages_sent: "counter",
  /** The sender's own copy came back: the server stored and relayed it. */
  messages_acked: "counter",
  /** The server answered a message with an `error` frame naming it (`refused` tells the code). */
  messages_refused: "counter",
  /** Neither acknowledged nor refused by the time the sender left: dropped without a word. */
  messages_unanswered: "counter",
  messages_delivered: "counter",
  /**
   * Delivered, but LATE_MS or more after it was sent: an observer that stops looking a few
   * seconds after the last send (issue 22's driver waited 3 s) counts these as lost, with no
   * echo and no error yet.
   */
  messages_late: "counter",
  /** Messages a receiver can prove missing: sequence gaps, or a partner's final message that never came. */
  messages_lost: "counter",
  /** Asymmetric partners, self-matches, a second pair for one user. */
  pairing_errors: "counter",
  /** Non-200 answers and network failures of /api/match. */
  match_http_errors: "counter",
  /** Of those, `503 busy`: the server turned the request away before doing anything. */
  match_busy: "counter",
  /** Sockets that failed or closed while the user still needed them. */
  ws_errors: "counter",
  /** A user reached a chat with its partner online, within the match timeout. */
  match_success: "rate",
} as const;
export type MetricName = keyof typeof METRICS;

/** The product promise, as pass/fail rules (k6 threshold syntax; the Node driver evaluates the same strings). */
export const THRESHOLDS: Partial<Record<MetricName, string[]>> = {
  delivery_latency: ["p(95)<50"],
  match_success: ["rate>0.99"],
  messages_lost: ["count==0"],
  messages_unanswered: ["count==0"],
  pairing_errors: ["count==0"],
};

/** A delivery this late is counted as `messages_late`. */
export const LATE_MS = 3_000;

/** The standard pace the service is sold on: one message per user every 5 s. */
export const SEND_EVERY_MS = 5_000;
/** Chat sockets ping this often by default: well below the server's heartbeat timeout (the page pings every 10 s). */
export const HEARTBEAT_MS = 25_000;

/** A few emotion/language queues, so the load is not one hot queue. */
export const QUEUES: ReadonlyArray<Pick<MatchRequest, "emotion" | "language">> = [
  { emotion: "happy", language: "en" },
  { emotion: "sad", language: "en" },
  { emotion: "any", language: "es" },
  { emotion: "calm", language: "pt-BR" },
];
