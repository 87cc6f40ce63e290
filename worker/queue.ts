/**
 * The KV side of the queue: an index of who is waiting, one key per waiting user (so no
 * key is ever hot), listed by prefix to find candidates. KV is only an index: it is
 * eventually consistent and has no compare-and-swap, so the ChatRoom that owns each
 * entry decides atomically whether it can still be claimed.
 */
import type { ParsedMatchRequest } from "./protocol";
import { kvExpirationTtl, type Timings } from "./config";

/** What list() hands back per entry (KV metadata, so one list call needs no gets). */
export type QueueEntry = {
  key: string;
  sessionId: string;
  enqueuedAt: number;
  /** Last time the owner proved it is still there (a poll or an open waiting socket). */
  seenAt: number;
  /** Fingerprints (truncated SHA-256) of the owner's userId and deviceId, to skip ourselves. */
  user: string;
  device: string;
};
type EntryMetadata = Omit<QueueEntry, "key">;

/** Human-readable name of a queue: mode, emotion and language ("any" when absent). */
export const queueKeyOf = (r: Pick<ParsedMatchRequest, "mode" | "emotion" | "language">): string =>
  `${r.mode}:${r.emotion}:${r.language}`;

const prefixOf = (queueKey: string): string => `q/${queueKey.split(":").map(encodeURIComponent).join("/")}/`;

/** Keys sort by enqueue time, so a list returns the longest-waiting users first. */
export const entryKeyOf = (queueKey: string, enqueuedAt: number, sessionId: string): string =>
  `${prefixOf(queueKey)}${enqueuedAt.toString(36).padStart(9, "0")}.${sessionId}`;

export async function writeEntry(kv: KVNamespace, entry: QueueEntry, t: Timings): Promise<void> {
  const { key, ...metadata } = entry;
  await kv.put(key, "", { metadata: metadata satisfies EntryMetadata, expirationTtl: kvExpirationTtl(t) });
}

export async function deleteEntry(kv: KVNamespace, key: string): Promise<void> {
  await kv.delete(key);
}

/**
 * Which room a user last waited in, so a client that polls by re-sending its request without
 * the ticket replaces its wait instead of queueing twice. Best effort: KV is eventually
 * consistent and allows one write per second per key, so this index never decides anything.
 */
const waitKeyOf = (user: string): string => `w/${user}`;

export async function previousWait(kv: KVNamespace, user: string): Promise<string | null> {
  return kv.get(waitKeyOf(user));
}

export async function rememberWait(kv: KVNamespace, user: string, sessionId: string, t: Timings): Promise<void> {
  try {
    await kv.put(waitKeyOf(user), sessionId, { expirationTtl: kvExpirationTtl(t) });
  } catch {
    // Over KV's per-key write rate: the previous wait simply expires on its own.
  }
}

/** Waiting users in a queue who were seen within the window, oldest first. */
export async function listFresh(kv: KVNamespace, queueKey: string, now: number, t: Timings): Promise<QueueEntry[]> {
  const fresh: QueueEntry[] = [];
  let cursor: string | undefined;
  // A page is 1000 keys; a queue longer than a few pages has plenty of candidates already.
  for (let page = 0; page < 3; page++) {
    const res = await kv.list<EntryMetadata>({ prefix: prefixOf(queueKey), cursor });
    for (const { name, metadata } of res.keys) {
      if (metadata && now - metadata.seenAt <= t.queueTtlMs) fresh.push({ key: name, ...metadata });
    }
    if (res.list_complete || fresh.length >= 50) break;
    cursor = res.cursor;
  }
  return fresh;
}

/** A stable pseudonym for an id, so queue entries and rooms never hold the raw userId or deviceId. */
export async function fingerprint(id: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(id));
  return [...new Uint8Array(digest).slice(0, 12)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
