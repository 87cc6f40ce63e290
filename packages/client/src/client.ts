/**
 * The session a person has with the service, from "find me a stranger" to the end of the chat:
 * it matches (a waiting socket the pairing is pushed to, polls while that socket is down),
 * chats, resumes after a refresh or an app restart, and turns frames into typed events. What it
 * stands on: the HTTP API (api.ts), one reconnecting connection at a time (transport.ts), a
 * chat's outbox and de-duplication (outbox.ts), typing (typing.ts), the store that lets a session
 * resume (store.ts) and the event emitter (emitter.ts). Only `fetch` and `WebSocket`, both
 * injectable, and no DOM: the web page and the React Native/Expo apps share it.
 */
import {
  type Around,
  type ChatMessage,
  CLOSE,
  type ClientFrame,
  type CloseReason,
  type ErrorCode,
  type MatchRequest,
  type MatchResponse,
  type Pairing,
  type ReportReason,
  type ServerFrame,
  ticketToken,
} from "@strangers/protocol";
import { Api, type ClientError, type FetchLike, isError } from "./api.ts";
import { Emitter } from "./emitter.ts";
import type { ClientEvents, EndReason, PartnerInfo, Status, Widening } from "./events.ts";
import { Outbox, type Outgoing } from "./outbox.ts";
import { Kept, memoryStore, type SessionStore } from "./store.ts";
import { after, sleep, stopTimer, type Timer } from "./timers.ts";
import { ReconnectingSocket, type SocketFactory, type SocketLike, type TransportHandlers } from "./transport.ts";
import { Typing } from "./typing.ts";

export type Identity = { userId: string; deviceId: string };
export type Criteria = Pick<MatchRequest, "userName" | "emotion" | "language" | "mode" | "anyLanguage" | "interests">;

export type ChatClientOptions = {
  /** Origin of the API, e.g. "https://chat.example.com"; the page passes its own. */
  baseUrl: string;
  identity: Identity;
  /** The global `fetch` by default. */
  fetch?: FetchLike;
  /** `(url) => new WebSocket(url)` with the global `WebSocket` by default. */
  socket?: SocketFactory;
  /**
   * Where the session's secrets are kept so a refresh or an app restart can resume: anything
   * shaped like `sessionStorage` or React Native's AsyncStorage. The global `sessionStorage`
   * where there is one, otherwise `memoryStore()`.
   */
  store?: SessionStore;
  storeKey?: string;
  reconnect?: { baseMs?: number; maxMs?: number };
  heartbeatMs?: number;
  random?: () => number;
};

// ---------------------------------------------------------------- tuning

const DEFAULT_STORE_KEY = "strangers.session";
/** When a busy server did not say when to come back. */
const BUSY_RETRY_MS = 1_000;
/** When to ask again after a refusal: when the server said, or `otherwise`. */
const retryAfterMs = (e: ClientError, otherwise: number): number =>
  e.retryAfterSeconds ? e.retryAfterSeconds * 1000 : otherwise;
/** Chat connections refused while the API answers mean the chat is gone (browsers hide the HTTP status). */
const REFUSALS_BEFORE_GIVING_UP = 3;

/** `declined`: pairings of this wait that fell through; told one again (its lobby could not take it back yet), we keep polling. */
type Waiting = {
  kind: "waiting";
  ticket: string;
  wsUrl: string;
  pollAfterMs: number;
  widening: Widening;
  declined?: string[];
};
/** `from`: the wait this chat came from; if the stranger never joins, the server gives it back and we return to it. */
type Chatting = { kind: "chatting"; pairing: Pairing; from?: Waiting };
/** Where the session stands. A wait or a chat survives a refresh (with the criteria, for Next). */
type Phase = { kind: "idle" } | { kind: "searching" } | Waiting | Chatting | { kind: "ended" };
type Saved = { criteria: Criteria; phase: Waiting | Chatting };
/** What the session hears from a connection: parsed frames, closes, reconnects. */
type SocketHandlers = Omit<TransportHandlers, "frame"> & { frame(f: ServerFrame): void };

export class ChatClient extends Emitter<ClientEvents> {
  private readonly opts: Required<Pick<ChatClientOptions, "identity" | "socket" | "heartbeatMs" | "random">> &
    Pick<ChatClientOptions, "reconnect">;
  private readonly api: Api;
  private readonly saved: Kept<Saved>;
  private currentStatus: Status = "idle";
  private phase: Phase = { kind: "idle" };
  private criteria: Criteria = {};
  private socket: ReconnectingSocket | null = null;
  /** Bumped whenever the current wait or chat is abandoned, so late callbacks are ignored. */
  private epoch = 0;
  private pollTimer: Timer | undefined;

  // The current chat.
  private you: string | null = null;
  private announced: string | null = null;
  private partnerJoined = false;
  private closedReason: CloseReason | null = null;
  private reportSent = false;
  private refusals = 0;
  private outbox: Outbox;
  private readonly typist: Typing;

  constructor(options: ChatClientOptions) {
    super();
    const g = globalThis as { WebSocket?: new (url: string) => SocketLike; sessionStorage?: SessionStore };
    this.opts = {
      identity: options.identity,
      socket: options.socket ?? ((url) => new g.WebSocket!(url)),
      heartbeatMs: options.heartbeatMs ?? 0,
      random: options.random ?? Math.random,
      reconnect: options.reconnect,
    };
    this.api = new Api(options.baseUrl, options.fetch);
    this.saved = new Kept(
      options.store ?? g.sessionStorage ?? memoryStore(),
      options.storeKey ?? DEFAULT_STORE_KEY,
      isSaved,
    );
    this.outbox = new Outbox(this.opts.random);
    this.typist = new Typing(
      (isTyping) => this.socket?.send(frame({ type: "typing", isTyping })),
      (isTyping) => this.emit("typing", { isTyping }),
    );
  }

  get status(): Status {
    return this.currentStatus;
  }

  get partner(): PartnerInfo | null {
    return this.phase.kind === "chatting"
      ? { id: this.phase.pairing.partnerId, name: this.phase.pairing.partnerName }
      : null;
  }

  // ------------------------------------------------------------ public actions

  /** Picks up a wait or chat saved by an earlier page (or app run). Returns false if there is none. */
  async resume(): Promise<boolean> {
    const saved = await this.saved.read();
    if (!saved) return false;
    this.reset();
    this.criteria = saved.criteria;
    if (saved.phase.kind === "waiting") this.wait(saved.phase);
    else this.chat(saved.phase.pairing, saved.phase.from);
    return true;
  }

  /**
   * Looks for a stranger. Resolves once the search is under way (or refused: see `error`). When
   * the server asked for a human check (`bot_check_required`), pass the Turnstile token here.
   */
  async match(criteria: Criteria, { turnstileToken }: { turnstileToken?: string } = {}): Promise<void> {
    this.leave();
    this.reset();
    this.criteria = criteria;
    this.phase = { kind: "searching" };
    this.setStatus("searching");
    const epoch = this.epoch;
    let res = await this.post({ turnstileToken });
    // A busy server asks to be asked again in a moment: the search goes on meanwhile.
    while (isError(res) && res.code === "busy" && epoch === this.epoch) {
      await sleep(retryAfterMs(res, BUSY_RETRY_MS));
      if (epoch !== this.epoch) return;
      res = await this.post({ turnstileToken });
    }
    if (epoch !== this.epoch) {
      // Cancelled while the request was in flight: end the wait it opened (a pairing it got falls through, and the partner goes back to its wait).
      if (!isError(res) && !res.matched) this.farewell({ url: res.wsUrl, token: ticketToken(res.ticket) });
      return;
    }
    if (isError(res)) this.fail(res);
    else this.onMatchResponse(res);
  }

  /** Stops searching; the wait ends on the server, so nobody gets paired with a ghost. */
  cancel(): void {
    if (this.currentStatus !== "searching") return;
    this.leave();
    this.setStatus("idle");
  }

  /** Ends the chat for both sides (Stop), or the wait. */
  leave(): void {
    const phase = this.phase;
    const sent = (phase.kind === "waiting" || phase.kind === "chatting") && this.socket?.send(frame({ type: "leave" }));
    // Without an open socket, say it on a one-off one; but never to a chat never joined: saying hello
    // there would make the pairing real, while silence lets it lapse and gives the stranger their place back.
    if (!sent && phase.kind === "waiting") this.farewell({ url: phase.wsUrl, token: ticketToken(phase.ticket) });
    if (!sent && phase.kind === "chatting" && this.you !== null)
      this.farewell({ url: phase.pairing.wsUrl, token: phase.pairing.token });
    this.abandon();
    this.forget();
    if (phase.kind === "chatting") this.end("you_left");
    else this.phase = { kind: "idle" };
  }

  /** Skips to a new stranger with the same criteria. */
  next(): Promise<void> {
    return this.match(this.criteria);
  }

  /** Queues a message; it is sent now or right after a reconnect. Returns its client id. */
  send(text: string): string | null {
    if (this.phase.kind !== "chatting") return null;
    const message = this.outbox.add(text);
    if (!message) return null;
    this.typist.sent();
    if (this.currentStatus === "chatting") this.transmit(message);
    return message.clientId;
  }

  /** Call on every keystroke; the client turns keystrokes into a few typing frames. */
  typing(): void {
    if (this.currentStatus === "chatting") this.typist.keystroke();
  }

  /** Ends the chat and keeps that stranger away from this device. */
  report(reason: ReportReason): void {
    if (this.currentStatus !== "chatting") return;
    this.reportSent = true;
    this.socket?.send(frame({ type: "report", reason }));
  }

  /**
   * Who's around: a coarse count of people online and how long people in this queue were
   * usually looking before a pairing (`GET /api/around`), for the waiting screen. Null when the
   * server cannot say right now; the figures are a few seconds old and rounded on purpose.
   */
  around(criteria: Criteria = this.criteria): Promise<Around | null> {
    return this.api.around(criteria);
  }

  /** Skips the backoff wait, e.g. when the device reports it is back online. */
  reconnectNow(): void {
    this.socket?.reconnectNow();
  }

  /** Releases timers and the socket but keeps the saved session, as a page unload does. */
  close(): void {
    this.abandon();
    this.setStatus("idle");
  }

  // ------------------------------------------------------------ matching

  private post(extra: Pick<MatchRequest, "ticket" | "turnstileToken"> = {}): Promise<MatchResponse | ClientError> {
    return this.api.match({ ...this.opts.identity, ...this.criteria, ...extra });
  }

  private onMatchResponse(res: MatchResponse): void {
    const from = this.phase.kind === "waiting" ? this.phase : undefined;
    if (res.matched && from?.declined?.includes(res.sessionId)) return this.schedulePoll(from.pollAfterMs);
    if (res.matched) return this.chat(pairingOf(res), from);
    if (this.phase.kind === "waiting" && this.phase.ticket === res.ticket) return this.schedulePoll(res.pollAfterMs);
    // A new wait (the first, or the old one lapsed). Absolute times survive a refresh without drifting.
    const now = Date.now();
    const { emotionAfterMs, languageAfterMs } = res.widening;
    const widening = {
      emotionAt: now + emotionAfterMs,
      languageAt: languageAfterMs === null ? null : now + languageAfterMs,
    };
    this.wait({ kind: "waiting", ticket: res.ticket, wsUrl: res.wsUrl, pollAfterMs: res.pollAfterMs, widening });
  }

  /** Waits on the waiting socket, where the pairing is pushed; polls only while that socket is down. */
  private wait(w: Waiting): void {
    this.abandon();
    this.phase = w;
    this.remember(w);
    this.setStatus("searching");
    this.emit("waiting", { widening: w.widening });
    const epoch = this.epoch;
    let superseded = false;
    this.socket = this.connect(w.wsUrl, ticketToken(w.ticket), {
      frame: (f) => {
        if (f.type === "waiting") this.socket?.markHealthy();
        if (f.type === "matched" && !w.declined?.includes(f.sessionId)) this.chat(pairingOf(f), w);
        // The same user on the same device searched again elsewhere (a duplicated tab): that search wins.
        if (f.type === "closed" && f.reason === "superseded") superseded = true;
      },
      closed: (code) => {
        if (epoch !== this.epoch) return "stop";
        if (code === CLOSE.replaced || superseded) return this.stop("replaced");
        // Matched (the frame normally came first), or the wait ended or is unknown: a poll says what next.
        if (code === CLOSE.matched || code === CLOSE.ended || code === CLOSE.unauthorized) {
          this.schedulePoll(0);
          return "stop";
        }
        return "reconnect";
      },
    });
    this.schedulePoll(w.pollAfterMs);
  }

  private schedulePoll(delayMs: number): void {
    stopTimer(this.pollTimer);
    const epoch = this.epoch;
    this.pollTimer = after(delayMs, async () => {
      const phase = this.phase;
      if (epoch !== this.epoch || phase.kind !== "waiting") return;
      // An open waiting socket already keeps us offered and brings the pairing: no request needed.
      if (this.socket?.isOpen) return this.schedulePoll(phase.pollAfterMs);
      const res = await this.post({ ticket: phase.ticket });
      if (epoch !== this.epoch) return;
      if (!isError(res)) return this.onMatchResponse(res);
      // A busy server is asked again, unreported; a blip keeps us waiting; a refusal (ban, bad input) ends the search.
      if (res.code === "busy") return this.schedulePoll(retryAfterMs(res, phase.pollAfterMs));
      if (res.code === "unreachable" || res.code === "rate_limited") {
        this.emit("error", res);
        return this.schedulePoll(retryAfterMs(res, phase.pollAfterMs));
      }
      this.leave();
      this.fail(res);
    });
  }

  // ------------------------------------------------------------ chatting

  private chat(pairing: Pairing, from?: Waiting): void {
    const resumedSame = this.phase.kind === "chatting" && this.phase.pairing.sessionId === pairing.sessionId;
    this.abandon();
    if (!resumedSame) this.resetChat();
    this.phase = { kind: "chatting", pairing, ...(from ? { from } : {}) };
    this.remember(this.phase);
    this.setStatus("connecting");
    const epoch = this.epoch;
    this.socket = this.connect(pairing.wsUrl, pairing.token, {
      frame: (f) => this.onChatFrame(f),
      closed: (code, opened) => this.onChatClosed(code, opened, epoch),
      reconnecting: (attempt, delayMs) => {
        this.setStatus("reconnecting");
        this.emit("reconnecting", { attempt, delayMs });
      },
    });
  }

  private onChatFrame(f: ServerFrame): void {
    const pairing = this.phase.kind === "chatting" ? this.phase.pairing : null;
    if (!pairing) return;
    switch (f.type) {
      case "welcome":
        this.socket?.markHealthy();
        this.you = f.you.id;
        this.refusals = 0;
        this.partnerJoined ||= f.partner.online;
        this.setStatus("chatting");
        if (this.announced !== f.sessionId) {
          this.announced = f.sessionId;
          this.emit("paired", {
            sessionId: f.sessionId,
            partner: { id: f.partner.id, name: f.partner.name },
            relaxed: f.relaxed,
            shared: f.shared ?? [],
          });
        }
        this.emit("partner", { online: f.partner.online });
        // Replayed history drops from the outbox whatever already arrived, so only the rest is resent.
        for (const m of f.history) this.receive(m);
        for (const m of this.outbox.unacknowledged) this.transmit(m);
        return;
      case "message":
        return this.receive(f);
      case "typing":
        return this.typist.partner(f.isTyping);
      case "partner_joined":
      case "partner_online":
        this.partnerJoined = true;
        return this.emit("partner", { online: true });
      case "partner_offline":
        this.typist.partner(false);
        return this.emit("partner", { online: false });
      case "partner_left":
        this.typist.partner(false);
        return this.emit("partner_left", {});
      case "closed":
        this.closedReason = f.reason;
        return;
      case "error":
        return this.refused(f.code, f.message, f.clientId);
    }
  }

  private async onChatClosed(
    code: number,
    opened: boolean,
    epoch: number,
  ): Promise<"reconnect" | "reconnect_slowly" | "stop"> {
    if (epoch !== this.epoch) return "stop";
    if (code === CLOSE.replaced) return this.stop("replaced");
    if (code === CLOSE.ended) {
      // The stranger never showed up: that is not the end of this person's search.
      if (this.closedReason === "partner_missing" && !this.partnerJoined) return this.searchAgain();
      return this.stop(
        this.closedReason === "reported" && this.reportSent ? "you_reported" : (this.closedReason ?? "left"),
      );
    }
    if (code === CLOSE.unauthorized) return this.you === null ? this.searchAgain() : this.stop("unavailable");
    if (code === CLOSE.flooding) return "reconnect_slowly";
    if (!opened) {
      const reachable = await this.api.reachable();
      if (epoch !== this.epoch) return "stop";
      if (!reachable) this.emit("error", { code: "unreachable", message: "Can't reach the server. Trying again…" });
      // A chat that refuses while the API answers is gone. One never joined fell through before it began: look again.
      else if (++this.refusals >= REFUSALS_BEFORE_GIVING_UP)
        return this.you === null ? this.searchAgain() : this.stop("unavailable");
    }
    return "reconnect";
  }

  /**
   * The pairing fell through before the chat began: back to the wait it came from (the server
   * gave it back, at its place), or a new search; as if nothing happened (no farewell, no "ended").
   */
  private searchAgain(): "stop" {
    const phase = this.phase;
    this.abandon();
    if (phase.kind === "chatting" && phase.from) {
      this.wait({ ...phase.from, declined: [...(phase.from.declined ?? []), phase.pairing.sessionId] });
      return "stop";
    }
    this.forget();
    this.phase = { kind: "idle" };
    void this.match(this.criteria);
    return "stop";
  }

  private stop(reason: EndReason): "stop" {
    this.abandon();
    this.forget();
    this.end(reason);
    return "stop";
  }

  private connect(url: string, token: string, handlers: SocketHandlers): ReconnectingSocket {
    return new ReconnectingSocket(
      url,
      {
        socket: this.opts.socket,
        hello: frame({ type: "hello", token }),
        reconnect: this.opts.reconnect,
        random: this.opts.random,
        ...(this.opts.heartbeatMs ? { heartbeatMs: this.opts.heartbeatMs } : {}),
      },
      {
        ...handlers,
        frame: (data) => {
          const parsed = parseFrame(data);
          if (parsed) handlers.frame(parsed);
        },
      },
    );
  }

  /** A one-off socket that only says `leave`, for leaving a wait or chat we are not connected to. */
  private farewell({ url, token }: { url: string; token: string }): void {
    try {
      const ws = this.opts.socket(url);
      ws.addEventListener("open", () => {
        ws.send(frame({ type: "hello", token }));
        ws.send(frame({ type: "leave" }));
        ws.close(CLOSE.normal);
      });
    } catch {
      // Best effort: the wait or chat ends by itself once nobody comes back.
    }
  }

  // ------------------------------------------------------------ state helpers

  private receive(m: ChatMessage): void {
    const mine = m.from === this.you;
    if (!this.outbox.receive(m, mine)) return;
    if (!mine) this.typist.partner(false);
    this.emit("message", { message: m, mine });
  }

  /** The room names a refused message by its clientId; any other refusal is an error to show. */
  private refused(code: ErrorCode, message: string, clientId?: string): void {
    const refused = this.outbox.refuse(clientId);
    if (!refused) return this.emit("error", { code, message });
    this.emit("unsent", { clientId: refused.clientId, text: refused.text, code });
  }

  private transmit(m: Outgoing): void {
    this.socket?.send(frame({ type: "message", text: m.text, clientId: m.clientId }));
  }

  private end(reason: EndReason): void {
    this.typist.partner(false);
    this.phase = { kind: "ended" };
    this.setStatus("ended");
    this.emit("ended", { reason });
  }

  /** Forgets everything about the current wait or chat except the criteria (for Next). */
  private reset(): void {
    this.abandon();
    this.phase = { kind: "idle" };
    this.resetChat();
  }

  private resetChat(): void {
    this.you = null;
    this.announced = null;
    this.partnerJoined = false;
    this.closedReason = null;
    this.reportSent = false;
    this.refusals = 0;
    this.outbox = new Outbox(this.opts.random);
  }

  /** Stops every timer and socket belonging to the current wait or chat. */
  private abandon(): void {
    this.epoch++;
    this.socket?.close();
    this.socket = null;
    stopTimer(this.pollTimer);
    this.typist.stop();
  }

  private remember(phase: Waiting | Chatting): void {
    // A store that fails (full, unavailable) costs only the resume after a restart.
    this.saved.write({ criteria: this.criteria, phase }).catch(() => {});
  }

  private forget(): void {
    this.saved.clear().catch(() => {});
  }

  private setStatus(status: Status): void {
    if (status === this.currentStatus) return;
    this.currentStatus = status;
    this.emit("status", { status });
  }

  private fail(error: ClientError): void {
    this.phase = { kind: "idle" };
    this.setStatus("idle");
    this.emit("error", error);
  }
}

// ---------------------------------------------------------------- helpers

const frame = (f: ClientFrame): string => JSON.stringify(f);
const pairingOf = ({ sessionId, token, wsUrl, partnerId, partnerName, relaxed, shared }: Pairing): Pairing => ({
  sessionId,
  token,
  wsUrl,
  partnerId,
  partnerName,
  relaxed,
  shared: shared ?? [],
});

function parseFrame(data: string): ServerFrame | null {
  try {
    return JSON.parse(data) as ServerFrame;
  } catch {
    return null;
  }
}

function isSaved(value: unknown): value is Saved {
  const phase = (value as Partial<Saved> | null)?.phase;
  return phase?.kind === "waiting" || (phase?.kind === "chatting" && typeof phase.pairing?.token === "string");
}
