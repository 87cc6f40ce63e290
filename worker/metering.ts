/**
 * Counts storage operations per isolate, so a load run can report KV operations per pairing
 * for each matchmaker backend. Increments only; read through /api/stats. On Cloudflare every
 * isolate counts its own share, so the figures are only meaningful on one local runtime.
 */
const counts: { [operation: string]: number } = {};

export function meter(operation: string): void {
  counts[operation] = (counts[operation] ?? 0) + 1;
}

export const meterReadings = (): { [operation: string]: number } => ({ ...counts });
