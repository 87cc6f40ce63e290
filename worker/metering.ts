/**
 * Counts operations per isolate: storage operations (KV per pairing, for each matchmaker
 * backend) and the times an object was woken (`room.event`, `room.alarm`, …: what a quiet chat
 * costs). Increments only; read through /api/stats. On Cloudflare every isolate counts its own
 * share, so the figures are only meaningful on one local runtime.
 */
const counts: { [operation: string]: number } = {};

export function meter(operation: string): void {
  counts[operation] = (counts[operation] ?? 0) + 1;
}

export const meterReadings = (): { [operation: string]: number } => ({ ...counts });
