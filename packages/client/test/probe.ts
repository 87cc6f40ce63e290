/**
 * Watching a client in a test, wherever it runs (workerd or Node): every event in order, and
 * a promise for the moment a condition over them holds.
 */
import { ChatClient, type ChatClientOptions } from "../src/client.ts";
import type { ClientEvents } from "../src/events.ts";
import { memoryStore } from "../src/store.ts";

/** Everything a test needs to watch one client: its events in order, and waiting for one. */
export type Probe = ReturnType<typeof probe>;

export function probe(client: ChatClient) {
  const events: { type: keyof ClientEvents; event: unknown }[] = [];
  const waiters = new Set<() => void>();
  const types: (keyof ClientEvents)[] = [
    "status",
    "waiting",
    "paired",
    "message",
    "unsent",
    "typing",
    "partner",
    "partner_left",
    "ended",
    "reconnecting",
    "error",
  ];
  for (const type of types) {
    client.on(type, (event) => {
      events.push({ type, event });
      for (const w of waiters) w();
    });
  }
  const of = <K extends keyof ClientEvents>(type: K) =>
    events.filter((e) => e.type === type).map((e) => e.event as ClientEvents[K]);
  return {
    events,
    of,
    texts: () => of("message").map((m) => m.message.text),
    /** Resolves when `predicate` holds over the events so far, or fails after `timeoutMs`. */
    until(what: string, predicate: () => boolean, timeoutMs = 5000): Promise<void> {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate()) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(`timed out waiting for ${what}; events: ${JSON.stringify(events.map((e) => [e.type, e.event]))}`),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

/** A mode of its own for one test (modes are free, languages are real tags), so tests cannot pair across each other. */
export const uniqueMode = () => `c${crypto.randomUUID().slice(0, 8)}`;

let users = 0;

/**
 * A client as a fresh page or app would make it, wired to its runtime (`wiring`: where the
 * server is and how to reach it), reconnecting fast, with a probe on it. Pass the `identity`
 * and `store` of another to act as its refresh.
 */
export function watchedClient(
  wiring: Pick<ChatClientOptions, "baseUrl"> & Partial<ChatClientOptions>,
  options: Partial<ChatClientOptions> = {},
) {
  const n = ++users;
  const identity = options.identity ?? {
    userId: `test-user-${n}-${crypto.randomUUID()}`,
    deviceId: `test-device-${n}-${crypto.randomUUID()}`,
  };
  const store = options.store ?? memoryStore();
  const client = new ChatClient({ ...wiring, reconnect: { baseMs: 50, maxMs: 400 }, ...options, identity, store });
  return { client, identity, store, ...probe(client) };
}
