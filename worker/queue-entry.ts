/**
 * What the waiting list holds about one waiting user, the order every backend and every
 * reader agrees on, and what a backend provides. Only a suggestion: the user's seat
 * decides whether it can be claimed.
 */
import type { ParsedMatchRequest } from "./protocol";

export type Criteria = Pick<ParsedMatchRequest, "mode" | "emotion" | "language">;

export type QueueEntry = Criteria & {
  seatId: string;
  enqueuedAt: number;
  /** When the seat last knew its owner was there; readers skip entries silent for longer than the wait window. */
  seenAt: number;
  /** Fingerprints of the owner's userId and deviceId, to skip ourselves. */
  user: string;
  device: string;
  /** The owner accepts a stranger of any language after waiting a while. */
  anyLanguage: boolean;
  /** The owner's interest tags (normalized): a seeker sharing one tries this entry first. */
  interests: string[];
};

/** How wide a search looks: the exact queue, the same language with any emotion, or every language. */
export type Scope = "exact" | "language" | "any";

/** A waiting-list backend (see waiting-list.ts for the choice between them). */
export interface WaitingList {
  /** Adds an entry, or refreshes its `seenAt`. */
  put(entry: QueueEntry): Promise<void>;
  remove(entry: QueueEntry): Promise<void>;
  /**
   * Entries seen within the wait window, oldest first, at most `limit` of them: a search needs
   * the longest waiters, not the whole queue. `any` may return only entries that allow any language.
   */
  fresh(around: Criteria, scope: Scope, now: number, limit: number): Promise<QueueEntry[]>;
}

/** Human-readable name of a queue: mode, emotion and language ("any" when absent). */
export const queueKeyOf = (c: Criteria): string => `${c.mode}:${c.emotion}:${c.language}`;

/** Queue order: by enqueue time, ties broken by seat id (code-point order, as KV sorts keys), so every reader agrees. */
export const queueOrder = (a: QueueEntry, b: QueueEntry): number =>
  a.enqueuedAt - b.enqueuedAt || (a.seatId < b.seatId ? -1 : a.seatId > b.seatId ? 1 : 0);

/** Interests two people both chose, in the first one's order. */
export const sharedInterests = (a: readonly string[] = [], b: readonly string[] = []): string[] => a.filter((tag) => b.includes(tag));

export const before = (a: QueueEntry, b: QueueEntry): boolean => queueOrder(a, b) < 0;

export function inScope(entry: QueueEntry, around: Criteria, scope: Scope): boolean {
  if (entry.mode !== around.mode) return false;
  if (scope === "any") return entry.anyLanguage;
  if (entry.language !== around.language) return false;
  return scope === "language" || entry.emotion === around.emotion;
}
