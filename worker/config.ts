/** Timings come from wrangler `vars` so tests and demos can shorten them. */
export type Timings = {
  /** How long a waiting user stays matchable without a poll or an open waiting socket. */
  queueTtlMs: number;
  /** How long a room lives without activity before its alarm deletes it. */
  roomIdleMs: number;
};

const seconds = (raw: string | undefined, fallback: number): number => {
  const n = Number(raw);
  return Number.isFinite(n) && n > 0 ? n * 1000 : fallback * 1000;
};

export function timings(env: Env): Timings {
  return {
    queueTtlMs: seconds(env.QUEUE_TTL_SECONDS, 30),
    roomIdleMs: seconds(env.ROOM_IDLE_SECONDS, 300),
  };
}

/** KV rejects an expirationTtl under 60 s, so KV expiry only garbage-collects; the window is enforced in code. */
export const kvExpirationTtl = (t: Timings): number => Math.max(60, Math.ceil((t.queueTtlMs * 2) / 1000));
