/**
 * The waiting list: who is waiting in which queue, for seekers to find candidates. It only
 * suggests; the ChatRoom that owns each entry decides atomically whether it can be claimed.
 * Two backends, chosen by the MATCHMAKER var:
 * - "kv" (default): one KV key per waiting user, listed by prefix (kv-waiting-list.ts);
 * - "durable-object": MatchQueue objects that hold the entries themselves (match-queue.ts).
 */
import type { Timings } from "./config";
import { kvWaitingList } from "./kv-waiting-list";
import { doWaitingList } from "./match-queue";
import type { ParsedMatchRequest } from "./protocol";

export type Criteria = Pick<ParsedMatchRequest, "mode" | "emotion" | "language">;

/** One waiting user, as every backend stores and returns it. */
export type QueueEntry = Criteria & {
  sessionId: string;
  enqueuedAt: number;
  /** Last time the owner proved it is still there (a poll or a live waiting socket). */
  seenAt: number;
  /** Fingerprints of the owner's userId and deviceId, to skip ourselves. */
  user: string;
  device: string;
  /** The owner accepts a stranger of any language after waiting a while. */
  anyLanguage: boolean;
};

/** How wide a search looks: the exact queue, the same language with any emotion, or every language. */
export type Scope = "exact" | "language" | "any";

export interface WaitingList {
  /** Adds an entry, or refreshes its `seenAt`. */
  put(entry: QueueEntry): Promise<void>;
  remove(entry: QueueEntry): Promise<void>;
  /** Entries seen within the queue window, oldest first. `any` may return only entries that allow any language. */
  fresh(around: Criteria, scope: Scope, now: number): Promise<QueueEntry[]>;
}

export function waitingListFor(env: Env, t: Timings): WaitingList {
  return env.MATCHMAKER === "durable-object" ? doWaitingList(env) : kvWaitingList(env.QUEUE, t);
}

/** Human-readable name of a queue: mode, emotion and language ("any" when absent). */
export const queueKeyOf = (c: Criteria): string => `${c.mode}:${c.emotion}:${c.language}`;

/** Queue order: by enqueue time, ties broken by session id (code-point order, as KV sorts keys), so every reader agrees. */
export const queueOrder = (a: QueueEntry, b: QueueEntry): number =>
  a.enqueuedAt - b.enqueuedAt || (a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : 0);

export const before = (a: QueueEntry, b: QueueEntry): boolean => queueOrder(a, b) < 0;

export function inScope(entry: QueueEntry, around: Criteria, scope: Scope): boolean {
  if (entry.mode !== around.mode) return false;
  if (scope === "any") return entry.anyLanguage;
  if (entry.language !== around.language) return false;
  return scope === "language" || entry.emotion === around.emotion;
}
