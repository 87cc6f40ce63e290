/**
 * A WebSocket that stays connected: it says `hello` on every (re)connection, pings, notices a
 * dead connection by the missing pongs, and reconnects with backoff and jitter until told to
 * stop. It knows nothing of chats or waits; the session above decides, from each close code,
 * whether to keep going (partysocket's ReconnectingWebSocket is the model).
 */
import { HEARTBEAT_INTERVAL_MS, PING, PONG } from "@strangers/protocol";
import { after, every, stopTimer, type Timer } from "./timers.ts";

/** The part of the browser `WebSocket` used here; React Native's and adapters fit too. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  // biome-ignore lint/suspicious/noExplicitAny: each runtime's socket (DOM, workerd, React Native, ws) passes its own event type
  addEventListener(type: "open" | "message" | "close" | "error", listener: (event: any) => void): void;
}
export type SocketFactory = (url: string) => SocketLike;

export type TransportOptions = {
  socket: SocketFactory;
  /** The first frame on every connection: the secret that says whose socket this is. */
  hello: string;
  heartbeatMs?: number;
  reconnect?: { baseMs?: number; maxMs?: number };
  random?: () => number;
};

export type TransportHandlers = {
  /** A frame from the server (pongs are absorbed here). */
  frame(data: string): void;
  /**
   * The connection closed. Return how to go on: reconnect after the usual backoff, after a
   * longer one, or stop for good. `opened` is false when the connection never opened (a
   * refused upgrade looks the same as a network failure to a browser).
   */
  closed(
    code: number,
    opened: boolean,
  ): "reconnect" | "reconnect_slowly" | "stop" | Promise<"reconnect" | "reconnect_slowly" | "stop">;
  reconnecting?(attempt: number, delayMs: number): void;
};

/** A connection that has heard nothing for this many heartbeats is dead, even if the OS has not noticed. */
const SILENT_HEARTBEATS = 3;
/** After "reconnect slowly" (the server said we flooded it), the backoff starts this many steps in. */
const SLOW_START_STEPS = 4;
const OPEN = 1;

export class ReconnectingSocket {
  private ws: SocketLike | null = null;
  private attempt = 0;
  private stopped = false;
  private lastHeardAt = 0;
  private openedAt = 0;
  /** Whether the server answered this connection's hello (anything but a pong). */
  private answered = false;
  private heartbeat: Timer | undefined;
  private retry: Timer | undefined;
  private readonly heartbeatMs: number;
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;

  constructor(
    private readonly url: string,
    private readonly options: TransportOptions,
    private readonly handlers: TransportHandlers,
  ) {
    this.heartbeatMs = options.heartbeatMs ?? HEARTBEAT_INTERVAL_MS;
    this.baseMs = options.reconnect?.baseMs ?? 500;
    this.maxMs = options.reconnect?.maxMs ?? 15_000;
    this.random = options.random ?? Math.random;
    this.connect();
  }

  get isOpen(): boolean {
    return this.ws?.readyState === OPEN;
  }

  /** Sends if connected; returns whether it did. */
  send(data: string): boolean {
    if (!this.isOpen) return false;
    this.ws!.send(data);
    return true;
  }

  /** Stops for good: no more frames, closes, or reconnects reach the handlers. */
  close(code = 1000): void {
    this.stopped = true;
    stopTimer(this.retry);
    this.stopHeartbeat();
    const ws = this.ws;
    this.ws = null;
    if (ws && ws.readyState <= OPEN) ws.close(code);
  }

  /** The session got what it came for (a welcome): the next drop starts the backoff afresh. */
  markHealthy(): void {
    this.attempt = 0;
  }

  /** Skips the backoff wait, e.g. when the device says it is back online. */
  reconnectNow(): void {
    if (this.stopped || this.ws) return;
    stopTimer(this.retry);
    this.connect();
  }

  private connect(): void {
    const ws = this.options.socket(this.url);
    this.ws = ws;
    let opened = false;
    ws.addEventListener("open", () => {
      if (this.ws !== ws) return;
      opened = true;
      this.answered = false;
      this.openedAt = this.lastHeardAt = Date.now();
      ws.send(this.options.hello);
      this.startHeartbeat(ws);
    });
    ws.addEventListener("message", (event: { data: unknown }) => {
      if (this.ws !== ws || typeof event.data !== "string") return;
      this.lastHeardAt = Date.now();
      if (event.data === PONG) return;
      this.answered = true;
      this.handlers.frame(event.data);
    });
    ws.addEventListener("close", (event: { code: number }) => {
      if (this.ws !== ws) return;
      void this.onClose(event.code, opened);
    });
  }

  private async onClose(code: number, opened: boolean): Promise<void> {
    this.ws = null;
    this.stopHeartbeat();
    const next = await this.handlers.closed(code, opened);
    if (this.stopped || next === "stop") return void (this.stopped = true);
    if (next === "reconnect_slowly") this.attempt = Math.max(this.attempt, SLOW_START_STEPS);
    this.attempt += 1;
    const delayMs = this.backoff();
    this.handlers.reconnecting?.(this.attempt, delayMs);
    // reconnectNow may have connected meanwhile.
    this.retry = after(delayMs, () => !this.stopped && !this.ws && this.connect());
  }

  /** Exponential backoff with equal jitter: never instant, never in lockstep with other clients. */
  private backoff(): number {
    const ceiling = Math.min(this.maxMs, this.baseMs * 2 ** Math.max(0, this.attempt - 1));
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  private startHeartbeat(ws: SocketLike): void {
    this.stopHeartbeat();
    this.heartbeat = every(this.heartbeatMs, () => {
      if (this.ws !== ws) return this.stopHeartbeat();
      // Pongs alone do not make a connection useful: one that never answered its hello is as dead.
      const silentSince = this.answered ? this.lastHeardAt : this.openedAt;
      if (Date.now() - silentSince > this.heartbeatMs * SILENT_HEARTBEATS) {
        // A dead network can leave a socket "open" for minutes: give up on it ourselves.
        this.ws = null;
        ws.close(1000);
        void this.onClose(1006, true);
        return;
      }
      ws.send(PING);
    });
  }

  private stopHeartbeat(): void {
    stopTimer(this.heartbeat);
    this.heartbeat = undefined;
  }
}
