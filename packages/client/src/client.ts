/**
 * The chat client library: the session a person has with the service, from "find me a
 * stranger" to the end of the chat. It matches (a waiting socket the pairing is pushed to,
 * polls while that socket is down), chats, keeps an outbox across reconnects, resumes after a
 * refresh, and turns frames into typed events. Connections themselves are the transport's
 * job (transport.ts). It uses only `fetch` and `WebSocket` (both injectable) and no DOM, so
 * the web page and the React Native/Expo apps share it. Values come from the worker's
 * dependency-free constants module and types from its protocol module, so a protocol change
 * breaks this build rather than production, without bundling zod into the page.
 */
import {
  type Around,
  type ChatMessage,
  CLOSE,
  type ClientFrame,
  type CloseReason,
  cleanMessage,
  type ErrorCode,
  type ErrorResponse,
  LIMITS,
  type MatchRequest,
  type MatchResponse,
  type Pairing,
  REPORT_REASONS,
  type Relaxed,
  type ReportReason,
  type ServerFrame,
} from "@strangers/protocol";
import { stopTimer, type Timer } from "./timers";
import { ReconnectingSocket, type SocketFactory, type SocketLike, type TransportHandlers } from "./transport";

export type { Around, Relaxed, ReportReason, SocketFactory, SocketLike };
export { REPORT_REASONS };
export const MAX_MESSAGE_LENGTH = LIMITS.messageLength;

export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
) => Promise<{ ok: boolean; status: number; headers: { get(name: string): string | null }; json(): Promise<unknown> }>;

/** `sessionStorage` fits; so does an async store (AsyncStorage) since reads are awaited. */
export interface SessionStore {
  getItem(key: string): string | null | Promise<string | null>;
  setItem(key: string, value: string): void | Promise<void>;
  removeItem(key: string): void | Promise<void>;
}

export type Identity = { userId: string; deviceId: string };
export type Criteria = Pick<MatchRequest, "userName" | "emotion" | "language" | "mode" | "anyLanguage" | "interests">;

export type ChatClientOptions = {
  /** Origin of the API, e.g. "https://chat.example.com"; the page passes its own. */
  baseUrl: string;
  identity: Identity;
  fetch?: FetchLike;
  socket?: SocketFactory;
  /** Where the session's secrets are kept so a refresh can resume. */
  store?: SessionStore;
  storeKey?: string;
  reconnect?: { baseMs?: number; maxMs?: number };
  heartbeatMs?: number;
  random?: () => number;
};

// ---------------------------------------------------------------- events

export type Status = "idle" | "searching" | "connecting" | "chatting" | "reconnecting" | "ended";
export type PartnerInfo = { id: string; name: string };
/** When a wait widens (epoch ms): to any feeling, then to any language (null: it never does). */
export type Widening = { emotionAt: number; languageAt: number | null };

/**
 * Why a chat is over. `replaced`: this session continues in another tab or client.
 * `you_reported`: this side's report ended it (the other side sees `reported`).
 */
export type EndReason = CloseReason | "you_left" | "you_reported" | "replaced" | "unavailable";

export type ClientError = {
  /** A server code (unknown ones included, shown by message) or a client-side one. */
  code: ErrorCode | "unreachable";
  message: string;
  status?: number;
  retryAfterSeconds?: number;
  until?: string;
  /** With `bot_check_required` / `bot_check_failed`: the Turnstile site key to render the check with. */
  siteKey?: string;
};

export type ClientEvents = {
  status: { status: Status };
  /** A wait began (or a resumed one was found), and when its search widens. */
  waiting: { widening: Widening };
  /**
   * A chat began (or a resumed one was found): show the partner, start a fresh log. `relaxed` is
   * empty for an exact match; `shared`: the interests both chose.
   */
  paired: { sessionId: string; partner: PartnerInfo; relaxed: Relaxed[]; shared: string[] };
  /** Every message exactly once per client, history replays included, in server order. */
  message: { message: ChatMessage; mine: boolean };
  /**
   * An own message the server refused: sent too fast (`rate_limited`: `send` it again to retry)
   * or stopped by the moderation filter (`message_filtered`). It will not be resent by itself.
   */
  unsent: { clientId: string; text: string; code: ErrorCode };
  typing: { isTyping: boolean };
  partner: { online: boolean };
  partner_left: Record<string, never>;
  ended: { reason: EndReason };
  reconnecting: { attempt: number; delayMs: number };
  error: ClientError;
};
type Listener<K extends keyof ClientEvents> = (event: ClientEvents[K]) => void;

// ---------------------------------------------------------------- tuning

const DEFAULT_STORE_KEY = "strangers.session";
/** Typing frames count against the frame budget: announce at most this often, expire after. */
/** When a busy server did not say when to come back. */
const BUSY_RETRY_MS = 1_000;
/** When to ask again after a refusal: when the server said, or `otherwise`. */
const retryAfterMs = (e: ClientError, otherwise: number): number =>
  e.retryAfterSeconds ? e.retryAfterSeconds * 1000 : otherwise;
const TYPING_REFRESH_MS = 3_000;
const TYPING_IDLE_MS = 4_000;
const TYPING_SHOWN_MS = 6_000;
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
type Outgoing = { clientId: string; text: string };
/** What the session hears from a connection: parsed frames, closes, reconnects. */
type SocketHandlers = Omit<TransportHandlers, "frame"> & { frame(f: ServerFrame): void };

export class ChatClient {
  private readonly opts: Required<Omit<ChatClientOptions, "reconnect">> & Pick<ChatClientOptions, "reconnect">;
  private readonly listeners = new Map<keyof ClientEvents, Set<Listener<never>>>();
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
  private readonly seen = new Set<string>();
  private outbox: Outgoing[] = [];
  private partnerTyping = false;
  private typingSentAt = 0;
  private typingIdleTimer: Timer | undefined;
  private partnerTypingTimer: Timer | undefined;

  constructor(options: ChatClientOptions) {
    const g = globalThis as {
      fetch?: FetchLike;
      WebSocket?: new (url: string) => SocketLike;
      sessionStorage?: SessionStore;
    };
    this.opts = {
      fetch: options.fetch ?? ((url, init) => g.fetch!(url, init)),
      socket: options.socket ?? ((url) => new g.WebSocket!(url)),
      store: options.store ?? g.sessionStorage ?? memoryStore(),
      storeKey: options.storeKey ?? DEFAULT_STORE_KEY,
      heartbeatMs: options.heartbeatMs ?? 0,
      random: options.random ?? Math.random,
      baseUrl: options.baseUrl,
      identity: options.identity,
      reconnect: options.reconnect,
    };
  }

  get status(): Status {
    return this.currentStatus;
  }

  get partner(): PartnerInfo | null {
    return this.phase.kind === "chatting"
      ? { id: this.phase.pairing.partnerId, name: this.phase.pairing.partnerName }
      : null;
  }

  on<K extends keyof ClientEvents>(type: K, listener: Listener<K>): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  // ------------------------------------------------------------ public actions

  /** Picks up a wait or chat saved by an earlier page (or app run). Returns false if there is none. */
  async resume(): Promise<boolean> {
    const raw = await this.opts.store.getItem(this.opts.storeKey);
    const saved = raw ? parseSaved(raw) : null;
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
    while (!isResponse(res) && res.code === "busy" && epoch === this.epoch) {
      const afterMs = retryAfterMs(res, BUSY_RETRY_MS);
      await new Promise((resolve) => setTimeout(resolve, afterMs));
      if (epoch !== this.epoch) return;
      res = await this.post({ turnstileToken });
    }
    if (epoch !== this.epoch) {
      // Cancelled while the request was in flight: end the wait it opened (a pairing it got falls through, and the partner goes back to its wait).
      if (isResponse(res) && !res.matched) this.farewell({ url: res.wsUrl, token: ticketToken(res.ticket) });
      return;
    }
    if (isResponse(res)) this.onMatchResponse(res);
    else this.fail(res);
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
    // Cleaned as the server cleans it, so a message the client accepts is one the server takes (NFC can lengthen text).
    const cleaned = cleanMessage(text);
    if (!cleaned || cleaned.length > MAX_MESSAGE_LENGTH || this.phase.kind !== "chatting") return null;
    const message = { clientId: randomId(this.opts.random), text: cleaned };
    this.outbox.push(message);
    this.typingSentAt = 0;
    stopTimer(this.typingIdleTimer);
    if (this.currentStatus === "chatting") this.transmit(message);
    return message.clientId;
  }

  /** Call on every keystroke; the client turns keystrokes into a few typing frames. */
  typing(): void {
    if (this.currentStatus !== "chatting") return;
    const now = Date.now();
    if (now - this.typingSentAt >= TYPING_REFRESH_MS) {
      this.typingSentAt = now;
      this.socket?.send(frame({ type: "typing", isTyping: true }));
    }
    stopTimer(this.typingIdleTimer);
    this.typingIdleTimer = setTimeout(() => {
      this.typingSentAt = 0;
      this.socket?.send(frame({ type: "typing", isTyping: false }));
    }, TYPING_IDLE_MS);
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
  async around(criteria: Criteria = this.criteria): Promise<Around | null> {
    const url = new URL("/api/around", this.opts.baseUrl);
    for (const key of ["emotion", "language", "mode"] as const)
      if (criteria[key]) url.searchParams.set(key, criteria[key]!);
    try {
      const res = await this.opts.fetch(url.toString(), { method: "GET", headers: {} });
      return res.ok ? ((await res.json()) as Around) : null;
    } catch {
      return null;
    }
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

  private async post(
    extra: Pick<MatchRequest, "ticket" | "turnstileToken"> = {},
  ): Promise<MatchResponse | ClientError> {
    const body: MatchRequest = { ...this.opts.identity, ...this.criteria, ...extra };
    let res: Awaited<ReturnType<FetchLike>>;
    try {
      res = await this.opts.fetch(new URL("/api/match", this.opts.baseUrl).toString(), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    } catch {
      return { code: "unreachable", message: "Can't reach the server. Check your connection and try again." };
    }
    const json = (await res.json().catch(() => null)) as MatchResponse | ErrorResponse | null;
    if (res.ok && json?.success) return json;
    const error = json && !json.success ? json.error : null;
    const retryAfter = Number(res.headers.get("Retry-After")) || error?.retryAfterSeconds;
    return {
      code: error?.code ?? "internal_error",
      message: error?.message ?? `The server could not take the request (HTTP ${res.status}).`,
      status: res.status,
      ...(retryAfter ? { retryAfterSeconds: retryAfter } : {}),
      ...(error?.until ? { until: error.until } : {}),
      ...(error?.siteKey ? { siteKey: error.siteKey } : {}),
    };
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
    this.pollTimer = setTimeout(async () => {
      const phase = this.phase;
      if (epoch !== this.epoch || phase.kind !== "waiting") return;
      // An open waiting socket already keeps us offered and brings the pairing: no request needed.
      if (this.socket?.isOpen) return this.schedulePoll(phase.pollAfterMs);
      const res = await this.post({ ticket: phase.ticket });
      if (epoch !== this.epoch) return;
      if (isResponse(res)) return this.onMatchResponse(res);
      // A busy server is asked again, unreported; a blip keeps us waiting; a refusal (ban, bad input) ends the search.
      if (res.code === "busy") return this.schedulePoll(retryAfterMs(res, phase.pollAfterMs));
      if (res.code === "unreachable" || res.code === "rate_limited") {
        this.emit("error", res);
        return this.schedulePoll(retryAfterMs(res, phase.pollAfterMs));
      }
      this.leave();
      this.fail(res);
    }, delayMs);
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
        for (const m of this.outbox) this.transmit(m);
        return;
      case "message":
        return this.receive(f);
      case "typing":
        return this.showTyping(f.isTyping);
      case "partner_joined":
      case "partner_online":
        this.partnerJoined = true;
        return this.emit("partner", { online: true });
      case "partner_offline":
        this.showTyping(false);
        return this.emit("partner", { online: false });
      case "partner_left":
        this.showTyping(false);
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
      const reachable = await this.apiReachable();
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

  private async apiReachable(): Promise<boolean> {
    try {
      return (
        await this.opts.fetch(new URL("/api/health", this.opts.baseUrl).toString(), { method: "GET", headers: {} })
      ).ok;
    } catch {
      return false;
    }
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
    // By the sender's clientId where there is one: the room relays a message before storing it,
    // so if that write is lost the sender resends it (same clientId) and it arrives twice.
    const key = m.clientId ? `${m.from}\n${m.clientId}` : m.id;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const mine = m.from === this.you;
    if (mine && m.clientId) this.outbox = this.outbox.filter((o) => o.clientId !== m.clientId);
    if (!mine) this.showTyping(false);
    this.emit("message", { message: m, mine });
  }

  /** The room names a refused message by its clientId; any other refusal is an error to show. */
  private refused(code: ErrorCode, message: string, clientId?: string): void {
    const refused = clientId ? this.outbox.find((o) => o.clientId === clientId) : undefined;
    if (!refused) return this.emit("error", { code, message });
    this.outbox = this.outbox.filter((o) => o !== refused);
    this.emit("unsent", { clientId: refused.clientId, text: refused.text, code });
  }

  private showTyping(isTyping: boolean): void {
    stopTimer(this.partnerTypingTimer);
    // The "stopped" frame can be lost with a dropped socket: the indicator expires by itself.
    if (isTyping) this.partnerTypingTimer = setTimeout(() => this.showTyping(false), TYPING_SHOWN_MS);
    if (isTyping === this.partnerTyping) return;
    this.partnerTyping = isTyping;
    this.emit("typing", { isTyping });
  }

  private transmit(m: Outgoing): void {
    this.socket?.send(frame({ type: "message", text: m.text, clientId: m.clientId }));
  }

  private end(reason: EndReason): void {
    this.showTyping(false);
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
    this.outbox = [];
    this.seen.clear();
  }

  /** Stops every timer and socket belonging to the current wait or chat. */
  private abandon(): void {
    this.epoch++;
    this.socket?.close();
    this.socket = null;
    stopTimer(this.pollTimer);
    stopTimer(this.typingIdleTimer);
  }

  private remember(phase: Waiting | Chatting): void {
    void this.opts.store.setItem(
      this.opts.storeKey,
      JSON.stringify({ criteria: this.criteria, phase } satisfies Saved),
    );
  }

  private forget(): void {
    void this.opts.store.removeItem(this.opts.storeKey);
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

  private emit<K extends keyof ClientEvents>(type: K, event: ClientEvents[K]): void {
    for (const listener of this.listeners.get(type) ?? []) (listener as Listener<K>)(event);
  }
}

// ---------------------------------------------------------------- helpers

const isResponse = (r: MatchResponse | ClientError): r is MatchResponse => "success" in r;
const frame = (f: ClientFrame): string => JSON.stringify(f);
const ticketToken = (ticket: string): string => ticket.slice(ticket.indexOf(".") + 1);
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

function parseSaved(raw: string): Saved | null {
  try {
    const saved = JSON.parse(raw) as Saved;
    const { phase } = saved;
    return phase?.kind === "waiting" || (phase?.kind === "chatting" && typeof phase.pairing?.token === "string")
      ? saved
      : null;
  } catch {
    return null;
  }
}

function randomId(random: () => number): string {
  return Array.from({ length: 16 }, () => Math.floor(random() * 36).toString(36)).join("");
}

export function memoryStore(): SessionStore {
  const items = new Map<string, string>();
  return {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => void items.set(key, value),
    removeItem: (key) => void items.delete(key),
  };
}
