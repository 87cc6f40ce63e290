/**
 * Runs the client library against the real worker inside workerd: `fetch` goes to the
 * worker's own handler, and a small adapter gives workerd's server-side WebSocket the
 * browser's connect-then-`open` shape. Everything behind it (matchmaker, rooms, KV,
 * Durable Object storage, close codes) is the production code.
 */
import { exports } from "cloudflare:workers";
import {
  ChatClient,
  type ChatClientOptions,
  type ClientEvents,
  type FetchLike,
  memoryStore,
  type SessionStore,
  type SocketLike,
} from "../src/client";

export const ORIGIN = "http://client.test";

export const workerFetch: FetchLike = (url, init) => exports.default.fetch(url, init);

/** Browser-like: CONNECTING until the upgrade answers, then `open`, or `error` + `close` 1006 if refused. */
export class WorkerdSocket extends EventTarget implements SocketLike {
  readyState = 0;
  private ws: WebSocket | null = null;
  private closeRequested: [number?, string?] | null = null;

  constructor(url: string) {
    super();
    void this.connect(url);
  }

  private async connect(url: string): Promise<void> {
    const res = await exports.default.fetch(url.replace(/^ws/, "http"), { headers: { Upgrade: "websocket" } });
    const ws = res.webSocket;
    if (!ws) return this.closed(1006, "");
    ws.accept();
    this.ws = ws;
    ws.addEventListener("message", (e) => this.dispatchEvent(new MessageEvent("message", { data: e.data })));
    ws.addEventListener("close", (e) => this.closed(e.code, e.reason));
    if (this.closeRequested) return ws.close(...this.closeRequested);
    this.readyState = 1;
    this.dispatchEvent(new Event("open"));
  }

  private closed(code: number, reason: string): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.dispatchEvent(new CloseEvent("close", { code, reason }));
  }

  send(data: string): void {
    if (!this.ws || this.readyState !== 1) throw new Error("socket is not open");
    this.ws.send(data);
  }

  close(code?: number, reason?: string): void {
    if (this.ws) this.ws.close(code, reason);
    else this.closeRequested = [code, reason];
  }
}

/** Everything a test needs to watch one client: its events in order, and waiting for one. */
export type Probe = ReturnType<typeof probe>;

let users = 0;

/** A client as a fresh page would make it; pass `identity` and `store` of another to act as its refresh. */
export function newClient(options: Partial<ChatClientOptions> = {}) {
  const n = ++users;
  const identity = options.identity ?? {
    userId: `client-user-${n}-${crypto.randomUUID()}`,
    deviceId: `client-device-${n}-${crypto.randomUUID()}`,
  };
  const store: SessionStore = options.store ?? memoryStore();
  const client = new ChatClient({
    baseUrl: ORIGIN,
    fetch: workerFetch,
    socket: (url) => new WorkerdSocket(url),
    reconnect: { baseMs: 50, maxMs: 400 },
    ...options,
    identity,
    store,
  });
  return { client, identity, store, ...probe(client) };
}

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
