/**
 * Clients as an app in Node 22 makes them: the global `fetch` and `WebSocket`, no DOM, against
 * the worker the global setup started. `Network` stands between a client and the network, so
 * a test can take it offline (sockets drop, requests fail) and bring it back.
 */
import { inject } from "vitest";
import type { ChatClientOptions } from "../src/client.ts";
import type { SocketLike } from "../src/transport.ts";
import { watchedClient } from "./probe.ts";

export const baseUrl = (): string => inject("baseUrl");

export class Network {
  online = true;
  private readonly open = new Set<WebSocket>();

  readonly fetch: ChatClientOptions["fetch"] = (url, init) =>
    this.online ? fetch(url, init) : Promise.reject(new TypeError("fetch failed (offline)"));

  readonly socket = (url: string): SocketLike => {
    if (!this.online) return refused();
    const ws = new WebSocket(url);
    this.open.add(ws);
    ws.addEventListener("close", () => this.open.delete(ws));
    return ws;
  };

  /** The connection is gone: every open socket closes, and nothing connects until `restore`. */
  drop(): void {
    this.online = false;
    for (const ws of this.open) ws.close();
  }

  restore(): void {
    this.online = true;
  }
}

/** A socket that never opens, as a browser reports a failed connection: an error, then close 1006. */
function refused(): SocketLike {
  const target = new EventTarget();
  setTimeout(() => {
    target.dispatchEvent(new Event("error"));
    target.dispatchEvent(Object.assign(new Event("close"), { code: 1006 }));
  }, 10);
  return {
    readyState: 3,
    send: () => {
      throw new Error("not open");
    },
    close: () => {},
    addEventListener: (type, listener) => target.addEventListener(type, listener),
  };
}

export const nodeClient = (options: Partial<ChatClientOptions> = {}) => watchedClient({ baseUrl: baseUrl() }, options);
