/**
 * The waiting list: who is waiting in which queue, for seekers to find candidates. Two
 * backends, chosen by the MATCHMAKER var:
 * - "kv" (default): one KV key per waiting user, listed by prefix (kv-waiting-list.ts);
 * - "durable-object": MatchQueue objects that hold the entries themselves (match-queue.ts).
 */
import { widening, type Timings } from "./config";
import { kvWaitingList } from "./kv-waiting-list";
import { doWaitingList } from "./match-queue";
import type { WaitingList } from "./queue-entry";

export type { WaitingList };

export function waitingListFor(env: Env, t: Timings): WaitingList {
  return env.MATCHMAKER === "durable-object" ? doWaitingList(env, widening(env)) : kvWaitingList(env.QUEUE, t);
}
