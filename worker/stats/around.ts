/**
 * "Who's around": the figures the waiting screen shows, from the stats report. Coarse on
 * purpose: counts are rounded and "few" under five, so nobody can tell that one particular
 * person is waiting, and waits are bucket bounds, never one person's exact wait.
 */
import type { Around } from "@strangers/protocol";
import { offeredQueue, SMALL_COUNT, type StatsReport, WAIT_BUCKETS } from "./stats";

/** Fewer waits than this in the window (three pairings) say nothing about a queue's usual wait. */
const MIN_WAITS = 6;
/** "Usually": three people in four were paired at least this fast. */
const USUALLY = 0.75;

/** 3 → "few", 12 → 10, 47 → 50, 1,234 → 1,200. */
export function roundedCount(n: number): number | "few" {
  if (n < SMALL_COUNT) return "few";
  if (n < 20) return Math.round(n / 5) * 5;
  const step = n < 100 ? 10 : 10 ** (Math.floor(Math.log10(n)) - 1);
  return Math.round(n / step) * step;
}

/** The bucket bound three in four recent waits fell under; null with too few waits, or when that is over five minutes. */
export function usualWaitSeconds(counts: readonly number[] | undefined): number | null {
  const total = counts?.reduce((a, b) => a + b, 0) ?? 0;
  if (!counts || total < MIN_WAITS) return null;
  let seen = 0;
  for (const [i, n] of counts.entries()) {
    seen += n;
    if (seen >= USUALLY * total) return Number.isFinite(WAIT_BUCKETS[i]) ? WAIT_BUCKETS[i] : null;
  }
  return null;
}

/** The figures of every queue at once: one report (and one cache entry) serves every queue's waiting screen. */
export type AroundTable = { online: number | "few"; usualWaits: { [queue: string]: number | null } };

/** Everyone waiting or chatting counts as online; usual waits are kept for the queues the page offers. */
export function aroundTable(report: StatsReport): AroundTable {
  const offered = Object.entries(report.recentWaits).filter(([queue]) => offeredQueue(queue));
  return {
    online: roundedCount(report.waitingTotal + 2 * report.activeRooms),
    usualWaits: Object.fromEntries(offered.map(([queue, counts]) => [queue, usualWaitSeconds(counts)])),
  };
}

export const aroundFigures = (table: AroundTable, queueKey: string): Around => ({
  queueKey,
  online: table.online,
  pairedWithinSeconds: table.usualWaits[queueKey] ?? null,
});
