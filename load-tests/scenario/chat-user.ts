/**
 * The `chats` scenario, written once for both load generators: the k6 script
 * (k6/chats.ts) and the Node driver (driver/). One simulated user follows exactly the
 * flow of the real web client: ask /api/match, wait on the waiting socket (polling with the
 * ticket only while it is down), follow the pushed `matched` frame into the chat, chat at the
 * standard pace, then leave. Every socket's first frame is its `hello` with the secret.
 *
 * It must stay pure: k6's runtime has no Node APIs and cannot load npm packages, so the
 * network, clock and timers come in through `Runtime`, and only types are imported from
 * the protocol package (type imports vanish when k6 or Node strips the types); values come
 * only from its dependency-free constants, by path. It cannot be the client package's
 * ChatClient for the same reason; both follow the protocol package's types.
 */
import type { ChatMessage, MatchRequest, MatchResponse, Pairing, Partner, ServerFrame } from "@strangers/protocol";
// By its path, not the package's name: k6 resolves no packages (the type import above vanishes when types are stripped).
import { PING, ticketToken } from "../../packages/protocol/src/constants.ts";
import { HEARTBEAT_MS, LATE_MS, type MetricName, type QUEUES, SEND_EVERY_MS } from "./metrics.ts";
import { parseStamp, spelled, stampText } from "./stamp.ts";

// ---------------------------------------------------------------- what a generator provides

export interface Socket {
  send(data: string): void;
  close(): void;
}
export interface SocketEvents {
  open(): void;
  message(data: string): void;
  /** `code`: the close code, where the runtime tells it (it names why the server closed). */
  close(code?: number): void;
  error(reason: string): void;
}
export interface Runtime {
  /** Milliseconds on a clock shared by every simulated user (fractions welcome). */
  now(): number;
  postJson(url: string, body: unknown): Promise<{ status: number; body: unknown }>;
  connect(url: string, events: SocketEvents): Socket;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  record(metric: MetricName, value: number | boolean): void;
  /** Optional: each delivery with its send time, for latency over any window of the run (the Node driver keeps them). */
  delivered?(sentAt: number, latencyMs: number): void;
  /** Optional: the code of each refused message. */
  refused?(code: string): void;
}

export type UserOptions = {
  baseUrl: string;
  /** Unique per simulated user; deviceId is derived from it. */
  userId: string;
  queue: (typeof QUEUES)[number];
  /** On the runtime's clock: after this the user sends its final message and leaves. */
  stopSendingAt: number;
  sendEveryMs?: number;
  /** Give up if no chat with an online partner started within this. */
  matchTimeoutMs?: number;
  /** After its own final message, how long a user waits for the partner's. */
  finTimeoutMs?: number;
  /** Poll the ticket this often instead of the server's pollAfterMs (never more often). */
  pollEveryMs?: number;
  /** On the runtime's clock: a chat stays quiet (pings only) until then; the bench's idle phase. */
  quietUntil?: number;
  /** Ping the chat socket this often. */
  heartbeatMs?: number;
  /** On the runtime's clock: messages sent in [from, until) also count as `steady_delivery_latency`. */
  steadyWindow?: [number, number];
};

export type Phase = "matching" | "chatting" | "finishing" | "done";

// ---------------------------------------------------------------- one simulated user

export class ChatUser {
  phase: Phase = "matching";
  /** Why the user failed, if it did: for the driver's diagnostics. */
  failure: string | null = null;

  private readonly o: Required<UserOptions>;
  private readonly body: MatchRequest;
  private readonly startedAt: number;
  private ticket: string | null = null;
  private matchedAt: number | null = null;
  /** The waiting socket, where the pairing is pushed; polls stand in while it is not open. */
  private waitSocket: Socket | null = null;
  private waitOpen = false;
  /** The chat socket, and the session it belongs to. */
  private socket: Socket | null = null;
  private socketSession: string | null = null;
  private me: string | null = null;
  private partner: Partner | null = null;
  /** Sessions in which this user got a partner: more than one is a pairing error. */
  private readonly pairedIn = new Set<string>();
  private sent = 0;
  /** Own messages the server has neither acknowledged nor refused yet, by clientId. */
  private readonly unanswered = new Set<string>();
  private lastSeq = 0;
  private partnerFin: number | null = null;
  private readonly seen = new Set<string>();
  private readonly timers = new Set<unknown>();
  private resolve!: () => void;
  private readonly rt: Runtime;
  private readonly onPhase?: (from: Phase, to: Phase) => void;

  constructor(rt: Runtime, options: UserOptions, onPhase?: (from: Phase, to: Phase) => void) {
    this.rt = rt;
    this.onPhase = onPhase;
    this.o = {
      sendEveryMs: SEND_EVERY_MS,
      matchTimeoutMs: 30_000,
      finTimeoutMs: 10_000,
      pollEveryMs: 0,
      quietUntil: 0,
      heartbeatMs: HEARTBEAT_MS,
      steadyWindow: [0, 0],
      ...options,
    };
    this.body = {
      userId: this.o.userId,
      deviceId: `dev-${this.o.userId}`,
      userName: "Load tester",
      ...this.o.queue,
    };
    this.startedAt = rt.now();
  }

  /** Resolves when the user has left (or given up); metrics are recorded along the way. */
  run(): Promise<void> {
    const done = new Promise<void>((resolve) => (this.resolve = resolve));
    this.after(this.o.matchTimeoutMs, () => {
      if (this.phase === "matching") this.fail("match_timeout");
    });
    void this.ask();
    return done;
  }

  // ------------------------------------------------------------ matching

  private async ask(): Promise<void> {
    if (this.phase !== "matching" || this.socketSession) return;
    let res: { status: number; body: unknown };
    try {
      res = await this.rt.postJson(
        `${this.o.baseUrl}/api/match`,
        this.ticket ? { ...this.body, ticket: this.ticket } : this.body,
      );
    } catch {
      res = { status: 0, body: null };
    }
    if (this.phase !== "matching" || this.socketSession) return;
    if (res.status !== 200) {
      this.rt.record("match_http_errors", 1);
      if (res.status === 503) this.rt.record("match_busy", 1);
      // A lost ticket means our wait is gone; start over rather than poll a dead seat.
      if (res.status === 400) this.ticket = null;
      return this.after(1000, () => void this.ask());
    }
    const answer = res.body as MatchResponse;
    if (answer.matched) {
      this.matched();
      return this.join(answer);
    }
    // A new wait, or ours again after a pairing fell through: wait on its socket.
    if (this.ticket !== answer.ticket || !this.waitSocket) {
      this.ticket = answer.ticket;
      this.waitOn(answer.wsUrl, ticketToken(answer.ticket));
    }
    this.after(Math.max(answer.pollAfterMs, this.o.pollEveryMs), () => this.pollUnlessPushed(answer.pollAfterMs));
  }

  /** Like the web client: no request while the waiting socket is open, it brings the pairing. */
  private pollUnlessPushed(everyMs: number): void {
    if (this.phase !== "matching" || this.socketSession) return;
    if (this.waitOpen) return this.after(Math.max(everyMs, this.o.pollEveryMs), () => this.pollUnlessPushed(everyMs));
    void this.ask();
  }

  private waitOn(wsUrl: string, token: string): void {
    this.closeWait();
    const socket: Socket = this.rt.connect(wsUrl, {
      open: () => {
        socket.send(JSON.stringify({ type: "hello", token }));
        if (this.waitSocket !== socket) return;
        this.waitOpen = true;
        // Like the page: a waiting socket that answers pings keeps its owner offered, however long the wait.
        this.pingWhileWaiting(socket);
      },
      message: (data) => {
        if (this.waitSocket !== socket) return;
        const frame = parse(data);
        if (frame?.type !== "matched") return;
        this.matched();
        this.join(frame);
      },
      close: () => this.waitGone(socket),
      error: () => this.waitGone(socket),
    });
    this.waitSocket = socket;
  }

  private pingWhileWaiting(socket: Socket): void {
    this.after(this.o.heartbeatMs, () => {
      if (this.waitSocket !== socket) return;
      socket.send(PING);
      this.pingWhileWaiting(socket);
    });
  }

  private waitGone(socket: Socket): void {
    if (this.waitSocket !== socket) return;
    this.waitSocket = null;
    this.waitOpen = false;
  }

  private closeWait(leave = false): void {
    const socket = this.waitSocket;
    this.waitSocket = null;
    this.waitOpen = false;
    if (!socket) return;
    try {
      if (leave) socket.send('{"type":"leave"}');
    } catch {
      // already closed
    }
    socket.close();
  }

  /** Joins the chat a pairing names (from the HTTP answer or the pushed frame). */
  private join(pairing: Pairing): void {
    if (this.socketSession === pairing.sessionId) return;
    if (this.socketSession) return this.pairingError("second_pair");
    this.closeWait();
    this.socketSession = pairing.sessionId;
    this.me = null;
    const connectStart = this.rt.now();
    // Events of a socket we have since replaced or given up are stale: ignore them.
    const socket: Socket = this.rt.connect(pairing.wsUrl, {
      open: () => {
        this.rt.record("ws_connect_time", this.rt.now() - connectStart);
        socket.send(JSON.stringify({ type: "hello", token: pairing.token }));
        // Like the page's transport: a chat socket pings from the start, also while its partner is on the way.
        this.heartbeat(socket);
      },
      message: (data) => {
        if (this.socket === socket) this.onFrame(data);
      },
      close: (code) => {
        if (this.socket === socket) this.onSocketGone(`closed (${code ?? "no code"})`);
      },
      error: (reason) => {
        if (this.socket === socket) this.onSocketGone(`error: ${reason}`);
      },
    });
    this.socket = socket;
  }

  private onFrame(data: string): void {
    const frame = parse(data);
    if (!frame) return;
    switch (frame.type) {
      case "welcome":
        // A server that names nobody (a runtime past its limits can) has not paired anyone.
        if (!frame.you?.id || !frame.partner?.id) return this.pairingError("incomplete_welcome");
        this.me = frame.you.id;
        this.onPartner(frame.sessionId, frame.partner);
        for (const m of frame.history) this.onMessage(m);
        if (frame.partner.online) this.startChat();
        return;
      case "partner_joined":
        if (!frame.partner?.id) return this.pairingError("incomplete_welcome");
        this.onPartner(this.socketSession!, frame.partner);
        return this.startChat();
      case "partner_online":
        return this.startChat();
      case "message":
        return this.onMessage(frame);
      case "closed":
        // A stranger who never showed up does not end this user's search, as in the web client.
        if (this.phase === "matching" && frame.reason === "partner_missing") return this.searchAgain();
        return this.leave();
      case "partner_left":
        return this.leave();
      case "error":
        if (frame.clientId && this.unanswered.delete(frame.clientId)) {
          this.rt.record("messages_refused", 1);
          this.rt.refused?.(frame.code);
          this.maybeLeave();
        }
        this.failure ??= `server error frame: ${frame.code}`;
        return;
    }
  }

  /**
   * The chat fell through before it began. A user who was waiting goes back to its wait with
   * its ticket (the server keeps its place); a newcomer searches afresh, as the web client does.
   */
  private searchAgain(): void {
    // The pairing that fell through is over: the next one is not a second pair.
    if (this.socketSession) this.pairedIn.delete(this.socketSession);
    const socket = this.socket;
    this.socket = null;
    this.socketSession = null;
    socket?.close();
    this.after(this.ticket ? 0 : 1000, () => void this.ask());
  }

  /** The first sign of a partner ends the match, whichever way it arrives. */
  private matched(): void {
    if (this.matchedAt !== null) return;
    this.matchedAt = this.rt.now();
    this.rt.record("match_time", this.matchedAt - this.startedAt);
  }

  /** When this user was first matched, on the runtime's clock (null: not yet). */
  get matchedTime(): number | null {
    return this.matchedAt;
  }

  private onPartner(sessionId: string, partner: Partner): void {
    this.matched();
    this.pairedIn.add(sessionId);
    if (this.pairedIn.size > 1) return this.pairingError("second_pair");
    if (partner.id === this.me) return this.pairingError("self_match");
    this.partner = partner;
  }

  // ------------------------------------------------------------ chatting

  private startChat(): void {
    if (this.phase !== "matching" || !this.partner) return;
    this.setPhase("chatting");
    this.rt.record("match_success", true);
    // Spread first messages over one period so a ramp does not send in lockstep.
    const firstAt = Math.max(this.rt.now(), this.o.quietUntil) + Math.random() * this.o.sendEveryMs;
    this.after(firstAt - this.rt.now(), () => this.tick());
  }

  private tick(): void {
    if (this.phase !== "chatting") return;
    if (this.rt.now() >= this.o.stopSendingAt) return this.sayGoodbye();
    this.sendMessage(false);
    this.after(this.o.sendEveryMs, () => this.tick());
  }

  /** The final message: sent when our time is up, or in answer to the partner's. */
  private sayGoodbye(): void {
    if (this.phase !== "chatting") return;
    this.sendMessage(true);
    this.setPhase("finishing");
    this.after(this.o.finTimeoutMs, () => this.leave());
    this.maybeLeave();
  }

  private sendMessage(fin: boolean): void {
    // Chatting before our own welcome named us: the server broke the protocol's order.
    if (this.me === null || !this.partner || !this.socketSession) return this.pairingError("incomplete_welcome");
    this.sent++;
    const text = stampText({
      seq: this.sent,
      fin,
      sentAt: this.rt.now(),
      sessionId: this.socketSession!,
      from: this.me!,
      to: this.partner!.id,
      user: this.o.userId,
    });
    const clientId = `m${this.sent}`;
    this.unanswered.add(clientId);
    this.socket!.send(JSON.stringify({ type: "message", text, clientId }));
    this.rt.record("messages_sent", 1);
  }

  private heartbeat(socket: Socket): void {
    this.after(this.o.heartbeatMs, () => {
      if (this.phase === "done" || this.socket !== socket) return;
      socket.send(PING);
      this.heartbeat(socket);
    });
  }

  private onMessage(m: ChatMessage): void {
    if (m.from === this.me) {
      if (m.clientId && this.unanswered.delete(m.clientId)) this.rt.record("messages_acked", 1);
      return this.maybeLeave();
    }
    if (this.seen.has(m.id)) return;
    this.seen.add(m.id);
    const stamp = parseStamp(m.text);
    if (!stamp) return;
    const latency = this.rt.now() - stamp.sentAt;
    if (stamp.user === spelled(this.o.userId)) return this.pairingError("self_match");
    const [session, me, from] = [this.socketSession, this.me, m.from].map((id) => spelled(id ?? ""));
    if (stamp.sessionId !== session || stamp.to !== me || m.from !== this.partner?.id || stamp.from !== from) {
      return this.pairingError("asymmetric_partner");
    }
    if (stamp.seq <= this.lastSeq) return;
    this.rt.record("messages_delivered", 1);
    this.rt.record("delivery_latency", latency);
    if (latency >= LATE_MS) this.rt.record("messages_late", 1);
    this.rt.delivered?.(stamp.sentAt, latency);
    const [steadyFrom, steadyUntil] = this.o.steadyWindow;
    if (stamp.sentAt >= steadyFrom && stamp.sentAt < steadyUntil) this.rt.record("steady_delivery_latency", latency);
    if (stamp.seq > this.lastSeq + 1) this.rt.record("messages_lost", stamp.seq - this.lastSeq - 1);
    this.lastSeq = stamp.seq;
    if (stamp.fin) {
      this.partnerFin = stamp.seq;
      this.sayGoodbye();
    }
    this.maybeLeave();
  }

  /** Leave only once both final messages are through and ours are answered, so nothing in flight counts as lost or unanswered. */
  private maybeLeave(): void {
    if (this.phase === "finishing" && this.partnerFin !== null && this.unanswered.size === 0) this.leave();
  }

  // ------------------------------------------------------------ ending

  private leave(): void {
    if (this.phase === "done") return;
    if (this.phase === "matching") return this.fail("room closed before the chat started");
    // The partner's final message never came: at least that one is lost.
    if (this.partnerFin === null) this.rt.record("messages_lost", 1);
    this.finish();
  }

  private onSocketGone(why: string): void {
    if (this.phase === "done") return;
    if (this.phase === "matching") return this.searchAgain();
    if (this.phase === "chatting" || this.partnerFin === null) {
      this.rt.record("ws_errors", 1);
      this.failure ??= `socket ${why} while chatting`;
    }
    this.leave();
  }

  private pairingError(kind: string): void {
    this.rt.record("pairing_errors", 1);
    this.failure ??= kind;
    if (this.phase === "matching") this.rt.record("match_success", false);
    this.finish();
  }

  private fail(why: string): void {
    this.failure ??= why;
    this.rt.record("match_success", false);
    this.finish();
  }

  private finish(): void {
    if (this.phase === "done") return;
    if (this.unanswered.size) this.rt.record("messages_unanswered", this.unanswered.size);
    this.unanswered.clear();
    this.setPhase("done");
    for (const t of this.timers) this.rt.clearTimeout(t);
    this.timers.clear();
    this.closeWait(true);
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      // The room ends for both on leave (or drops the waiting entry): the server's own cleanup.
      try {
        socket.send('{"type":"leave"}');
      } catch {
        // already closed
      }
      socket.close();
    }
    this.resolve();
  }

  private setPhase(to: Phase): void {
    const from = this.phase;
    this.phase = to;
    this.onPhase?.(from, to);
  }

  private after(ms: number, fn: () => void): void {
    const handle = this.rt.setTimeout(() => {
      this.timers.delete(handle);
      fn();
    }, ms);
    this.timers.add(handle);
  }
}

function parse(data: string): ServerFrame | null {
  try {
    return JSON.parse(data) as ServerFrame;
  } catch {
    return null;
  }
}
