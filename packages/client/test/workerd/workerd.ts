/**
 * Runs the client library against the real worker inside workerd: `fetch` goes to the
 * worker's own handler, and a small adapter gives workerd's server-side WebSocket the
 * browser's connect-then-`open` shape. Everything behind it (matchmaker, rooms, KV,
 * Durable Object storage, close codes) is the production code.
 */
import { exports } from "cloudflare:workers";
import type { FetchLike } from "../../src/api.ts";
import type { ChatClientOptions } from "../../src/client.ts";
import type { SocketLike } from "../../src/transport.ts";
import { watchedClient } from "../probe.ts";

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

/** A client as a fresh page would make it; pass `identity` and `store` of another to act as its refresh. */
export const newClient = (options: Partial<ChatClientOptions> = {}) =>
  watchedClient({ baseUrl: ORIGIN, fetch: workerFetch, socket: (url) => new WorkerdSocket(url) }, options);
