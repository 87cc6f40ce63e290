/**
 * The chat client library: matchmaking, one chat socket with reconnect, resume after a
 * refresh, typed events. It uses only `fetch` and `WebSocket` (both injectable) and no
 * DOM, so the web page and the React Native/Expo apps share it. Types come from the
 * worker's protocol module, so a protocol change breaks this build rather than production.
 */
import type {
  CLOSE as SERVER_CLOSE,
  LIMITS,
  REPORT_REASONS as SERVER_REPORT_REASONS,
  ChatMessage,
  ClientFrame,
  CloseReason,
  ErrorCode,
  ErrorResponse,
  MatchRequest,
  MatchResponse,
  Relaxed,
  ReportReason,
  ServerFrame,
} from "../../worker/protocol";

export type { Relaxed, ReportReason };

/*
 * Types only: importing the protocol's values would bundle zod (~100 kB gzipped) into every
 * page load. The few constants the client needs are restated here, and `satisfies` against
 * the protocol's own types turns any drift into a build error.
 */
const CLOSE = { normal: 1000, replaced: 4001, ended: 4002, moved: 4003, flooding: 4008 } as const satisfies Pick<
  typeof SERVER_CLOSE,
  "normal" | "replaced" | "ended" | "moved" | "flooding"
>;
export const MAX_MESSAGE_LENGTH = 2000 satisfies (typeof LIMITS)["messageLength"];
export const REPORT_REASONS = ["spam", "harassment", "sexual", "hate", "underage", "other"] as const satisfies typeof SERVER_REPORT_REASONS;

// ---------------------------------------------------------------- injectable environment

/** The part of the browser `WebSocket` the client uses; React Native's and adapters fit too. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "open" | "message" | "close" | "error", listener: (event: any) => void): void;
}
export type SocketFactory = (url: string) => SocketLike;

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
export type Criteria = Pick<MatchRequest, "userName" | "emotion" | "language" | "mode" | "anyLanguage">;

export type ChatClientOptions = {
  /** Origin of the API, e.g. "https://chat.example.com"; the page passes its own. */
  baseUrl: string;
  identity: Identity;
  fetch?: FetchLike;
  socket?: SocketFactory;
  /** Where the session's secret (its socket URL) is kept so a refresh can resume. */
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
};

export type ClientEvents = {
  status: { status: Status };
  /** A wait began (or a resumed one was found), and when its search widens. */
  waiting: { widening: Widening };
  /** A chat began (or a resumed one was found): show the partner, start a fresh log. `relaxed` is empty for an exact match. */
  paired: { sessionId: string; partner: PartnerInfo; relaxed: Relaxed[] };
  /** Every message exactly once per client, history replays included, in server order. */
  message: { message: ChatMessage; mine: boolean };
  /** An own message the server refused (sending too fast): it will not be resent; `send` it again to retry. */
  unsent: { clientId: string; text: string };
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
/** The server drops a socket that stays silent for 30 s; ping well inside that. */
const DEFAULT_HEARTBEAT_MS = 10_000;
/** A socket that has heard nothing for this many heartbeats is dead even if the OS has not noticed. */
const SILENT_HEARTBEATS = 3;
/** Typing frames count against the message budget: announce at most this often, expire after. */
const TYPING_REFRESH_MS = 3_000;
const TYPING_IDLE_MS = 4_000;
const TYPING_SHOWN_MS = 6_000;
/** Upgrades refused while the API answers mean the room is gone (browsers hide the HTTP status). */
const REFUSALS_BEFORE_GIVING_UP = 3;
/** After a flood disconnect, start the backoff this many steps in. */
const FLOOD_BACKOFF_STEPS = 4;

/** What survives a refresh: enough to rejoin the socket (or keep waiting) as the same person. */
type Saved = {
  criteria: Criteria;
  sessionId: string;
  wsUrl: string;
  /** While waiting: the follow-up ticket for polling. */
  ticket?: string;
  pollAfterMs?: number;
  widening?: Widening;
  partner?: PartnerInfo;
  relaxed?: Relaxed[];
};

type Outgoing = { clientId: string; text: string };

export class ChatClient {
  private readonly opts: Required<Omit<ChatClientOptions, "reconnect">> & { reconnect: { baseMs: number; maxMs: number } };
  private readonly listeners = new Map<keyof ClientEvents, Set<Listener<never>>>();

  private currentStatus: Status = "idle";
  private saved: Saved | null = null;
  private criteria: Criteria = {};
  /** Bumped whenever the current search or socket is abandoned, so late callbacks are ignored. */
  private epoch = 0;

  private ws: SocketLike | null = null;
  private you: string | null = null;
  private announcedSession: string | null = null;
  private closedReason: CloseReason | null = null;
  private reportSent = false;
  private attempt = 0;
  private refusals = 0;
  private lastHeardAt = 0;

  private readonly seen = new Set<string>();
  private outbox: Outgoing[] = [];
  private partnerTyping = false;
  private typingSentAt = 0;

  private pollTimer: Timer | undefined;
  private reconnectTimer: Timer | undefined;
  private heartbeatTimer: Timer | undefined;
  private typingIdleTimer: Timer | undefined;
  private partnerTypingTimer: Timer | undefined;

  constructor(options: ChatClientOptions) {
    const g = globalThis as { fetch?: FetchLike; WebSocket?: new (url: string) => SocketLike; sessionStorage?: SessionStore };
    this.opts = {
      fetch: options.fetch ?? ((url, init) => g.fetch!(url, init)),
      socket: options.socket ?? ((url) => new g.WebSocket!(url)),
      store: options.store ?? g.sessionStorage ?? memoryStore(),
      storeKey: options.storeKey ?? DEFAULT_STORE_KEY,
      heartbeatMs: options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS,
      random: options.random ?? Math.random,
      baseUrl: options.baseUrl,
      identity: options.identity,
      reconnect: { baseMs: options.reconnect?.baseMs ?? 500, maxMs: options.reconnect?.maxMs ?? 15_000 },
    };
  }

  get status(): Status {
    return this.currentStatus;
  }

  get partner(): PartnerInfo | null {
    return this.saved?.partner ?? null;
  }

  on<K extends keyof ClientEvents>(type: K, listener: Listener<K>): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  // ------------------------------------------------------------ public actions

  /** Picks up a session saved by an earlier page (or app run). Returns false if there is none. */
  async resume(): Promise<boolean> {
    const raw = await this.opts.store.getItem(this.opts.storeKey);
    const saved = raw ? parseSaved(raw) : null;
    if (!saved) return false;
    this.reset();
    this.saved = saved;
    this.criteria = saved.criteria;
    this.setStatus(saved.ticket ? "searching" : "connecting");
    if (saved.ticket && saved.widening) this.emit("waiting", { widening: saved.widening });
    this.openSocket(saved.wsUrl);
    return true;
  }

  /** Looks for a stranger. Resolves once the search is under way (or refused: see `error`). */
  async match(criteria: Criteria): Promise<void> {
    this.leave();
    this.reset();
    this.criteria = criteria;
    this.setStatus("searching");
    const epoch = this.epoch;
    const res = await this.post();
    if (epoch !== this.epoch) {
      // Cancelled while the request was in flight: end the room it opened or took.
      if (isResponse(res)) this.farewell(res.wsUrl);
      return;
    }
    if (isResponse(res)) this.onMatchResponse(res);
    else this.fail(res);
  }

  /** Stops searching. The waiting room is ended on the server, so nobody gets paired with a ghost. */
  cancel(): void {
    if (this.currentStatus !== "searching") return;
    this.leave();
    this.setStatus("idle");
  }

  /** Ends the chat for both sides (Stop), or the wait. */
  leave(): void {
    const saved = this.saved;
    if (saved && this.ws?.readyState === OPEN) this.ws.send(frame({ type: "leave" }));
    else if (saved) this.farewell(saved.wsUrl);
    this.abandon();
    if (!saved) return;
    this.forget();
    if (!saved.ticket) this.end("you_left");
  }

  /** Skips to a new stranger with the same criteria. */
  next(): Promise<void> {
    return this.match(this.criteria);
  }

  /** Queues a message; it is sent now or right after a reconnect. Returns its client id. */
  send(text: string): string | null {
    const trimmed = text.trim();
    if (!trimmed || trimmed.length > MAX_MESSAGE_LENGTH || !this.saved || this.saved.ticket) return null;
    const message = { clientId: randomId(this.opts.random), text: trimmed };
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
      this.sendFrame({ type: "typing", isTyping: true });
    }
    stopTimer(this.typingIdleTimer);
    this.typingIdleTimer = setTimeout(() => {
      this.typingSentAt = 0;
      this.sendFrame({ type: "typing", isTyping: false });
    }, TYPING_IDLE_MS);
  }

  /** Ends the chat and keeps that stranger away from this device. */
  report(reason: ReportReason): void {
    if (this.currentStatus !== "chatting" || !this.saved) return;
    this.reportSent = true;
    this.sendFrame({ type: "report", reason });
  }

  /** Skips the backoff wait, e.g. when the device reports it is back online. */
  reconnectNow(): void {
    if (this.currentStatus !== "reconnecting" || !this.saved) return;
    stopTimer(this.reconnectTimer);
    this.openSocket(this.saved.wsUrl);
  }

  /** Releases timers and the socket but keeps the saved session, as a page unload does. */
  close(): void {
    this.abandon();
    this.setStatus("idle");
  }

  // ------------------------------------------------------------ matchmaking

  private async post(): Promise<MatchResponse | ClientError> {
    const body: MatchRequest = { ...this.opts.identity, ...this.criteria, ticket: this.saved?.ticket };
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
    };
  }

  private onMatchResponse(res: MatchResponse): void {
    if (res.matched) {
      // Our own waiting room was taken: its socket already has (or will get) the `paired` push.
      if (res.sessionId === this.saved?.sessionId && this.ws) return;
      const partner = { id: res.partnerId, name: res.partnerName };
      this.moveTo({ criteria: this.criteria, sessionId: res.sessionId, wsUrl: res.wsUrl, partner, relaxed: res.relaxed });
      return;
    }
    if (res.sessionId !== this.saved?.sessionId) {
      // A new wait (the first, or the old one lapsed): its socket is the push path.
      // Absolute times survive a refresh and later polls without drifting.
      const now = Date.now();
      const { emotionAfterMs, languageAfterMs } = res.widening;
      const widening = { emotionAt: now + emotionAfterMs, languageAt: languageAfterMs === null ? null : now + languageAfterMs };
      this.remember({ criteria: this.criteria, sessionId: res.sessionId, wsUrl: res.wsUrl, ticket: res.ticket, pollAfterMs: res.pollAfterMs, widening });
      this.emit("waiting", { widening });
      this.openSocket(res.wsUrl);
    } else {
      this.schedulePoll(res.pollAfterMs);
    }
  }

  /** Polling is the fallback for the push, and lets a waiter claim an older waiter's room. */
  private schedulePoll(delayMs: number): void {
    stopTimer(this.pollTimer);
    const epoch = this.epoch;
    this.pollTimer = setTimeout(async () => {
      if (epoch !== this.epoch || !this.saved?.ticket) return;
      const res = await this.post();
      if (epoch !== this.epoch || !this.saved?.ticket) return;
      if (isResponse(res)) return this.onMatchResponse(res);
      // The waiting socket keeps us queued through a blip; a refusal (ban, bad input) ends the search.
      if (res.code === "unreachable" || res.code === "rate_limited") {
        this.emit("error", res);
        this.attempt += 1;
        return this.schedulePoll(res.retryAfterSeconds ? res.retryAfterSeconds * 1000 : this.backoff());
      }
      this.leave();
      this.fail(res);
    }, delayMs);
  }

  /** Leaves the current room for another one (a pairing found by a poll or pushed as `matched`). */
  private moveTo(saved: Saved): void {
    this.abandon();
    this.remember(saved);
    this.setStatus("connecting");
    this.openSocket(saved.wsUrl);
  }

  // ------------------------------------------------------------ socket

  private openSocket(url: string): void {
    this.dropSocket();
    const epoch = ++this.epoch;
    const ws = this.opts.socket(url);
    this.ws = ws;
    let opened = false;
    ws.addEventListener("open", () => {
      if (epoch !== this.epoch) return;
      opened = true;
      this.lastHeardAt = Date.now();
      this.startHeartbeat(epoch);
    });
    ws.addEventListener("message", (event: { data: unknown }) => {
      if (epoch !== this.epoch || typeof event.data !== "string") return;
      this.lastHeardAt = Date.now();
      let parsed: ServerFrame;
      try {
        parsed = JSON.parse(event.data) as ServerFrame;
      } catch {
        return;
      }
      this.onFrame(parsed);
    });
    ws.addEventListener("close", (event: { code: number }) => {
      if (epoch !== this.epoch) return;
      this.onSocketClosed(event.code, opened);
    });
    // A new socket starts a new epoch, which ends the old poll loop: a wait restarts it here.
    if (this.saved?.ticket) this.schedulePoll(this.saved.pollAfterMs ?? 0);
  }

  private onFrame(f: ServerFrame): void {
    switch (f.type) {
      case "welcome": {
        this.you = f.you.id;
        this.attempt = 0;
        this.refusals = 0;
        if (f.status !== "paired" || !f.partner) return this.setStatus("searching");
        // The welcome does not repeat what was relaxed: it was saved when the pairing was announced.
        this.paired(f.sessionId, { id: f.partner.id, name: f.partner.name }, this.saved?.relaxed ?? []);
        this.emit("partner", { online: f.partner.online });
        // Replayed history drops from the outbox whatever already arrived, so only the rest is resent.
        for (const m of f.history) this.receive(m);
        for (const m of this.outbox) this.transmit(m);
        return;
      }
      case "paired":
        return this.paired(this.saved!.sessionId, { id: f.partner.id, name: f.partner.name }, f.relaxed);
      case "matched":
        return this.moveTo({
          criteria: this.criteria,
          sessionId: f.sessionId,
          wsUrl: f.wsUrl,
          partner: { id: f.partnerId, name: f.partnerName },
          relaxed: f.relaxed,
        });
      case "message":
        return this.receive(f);
      case "typing":
        return this.showTyping(f.isTyping);
      case "partner_joined":
      case "partner_online":
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
      case "pong":
        return;
    }
  }

  private onSocketClosed(code: number, opened: boolean): void {
    this.ws = null;
    this.stopHeartbeat();
    if (code === CLOSE.replaced) {
      this.abandon();
      return this.end("replaced");
    }
    if (code === CLOSE.ended) {
      // A wait that ended under us (expired, superseded) is not the user's choice: queue again.
      if (this.saved?.ticket) {
        this.forget();
        return void this.match(this.criteria);
      }
      const reason = this.closedReason === "reported" && this.reportSent ? "you_reported" : (this.closedReason ?? "left");
      this.abandon();
      this.forget();
      return this.end(reason);
    }
    if (code === CLOSE.moved) {
      // The `matched` frame normally moved us already; without it, a poll finds the new room.
      return this.schedulePoll(0);
    }
    if (code === CLOSE.flooding) this.attempt = Math.max(this.attempt, FLOOD_BACKOFF_STEPS);
    void this.scheduleReconnect(opened);
  }

  private async scheduleReconnect(opened: boolean): Promise<void> {
    const saved = this.saved;
    if (!saved) return;
    const epoch = this.epoch;
    if (!saved.ticket) this.setStatus("reconnecting");
    if (!opened) {
      const reachable = await this.apiReachable();
      if (epoch !== this.epoch) return;
      if (!reachable) {
        this.emit("error", { code: "unreachable", message: "Can't reach the server. Trying again…" });
      } else if (!saved.ticket && ++this.refusals >= REFUSALS_BEFORE_GIVING_UP) {
        // A waiting room that refuses is handled by polling; a chat room that refuses is over.
        this.forget();
        this.abandon();
        return this.end("unavailable");
      }
    }
    this.attempt += 1;
    const delayMs = this.backoff();
    this.emit("reconnecting", { attempt: this.attempt, delayMs });
    stopTimer(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      if (epoch === this.epoch && this.saved) this.openSocket(this.saved.wsUrl);
    }, delayMs);
  }

  /** Exponential backoff with equal jitter: never instant, never in lockstep with other clients. */
  private backoff(): number {
    const { baseMs, maxMs } = this.opts.reconnect;
    const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, this.attempt - 1));
    return Math.round(ceiling / 2 + (this.opts.random() * ceiling) / 2);
  }

  private async apiReachable(): Promise<boolean> {
    try {
      const res = await this.opts.fetch(new URL("/api/health", this.opts.baseUrl).toString(), { method: "GET", headers: {} });
      return res.ok;
    } catch {
      return false;
    }
  }

  private startHeartbeat(epoch: number): void {
    this.stopHeartbeat();
    this.heartbeatTimer = setInterval(() => {
      if (epoch !== this.epoch) return this.stopHeartbeat();
      if (Date.now() - this.lastHeardAt > this.opts.heartbeatMs * SILENT_HEARTBEATS) {
        // A dead network can leave a socket "open" for minutes: give up on it ourselves.
        this.stopHeartbeat();
        this.dropSocket();
        ++this.epoch;
        void this.scheduleReconnect(true);
        return;
      }
      this.sendFrame({ type: "ping" });
    }, this.opts.heartbeatMs);
  }

  private stopHeartbeat(): void {
    stopTimer(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  /** A one-off socket that only says `leave`, for leaving a room we are not connected to. */
  private farewell(url: string): void {
    try {
      const ws = this.opts.socket(url);
      ws.addEventListener("open", () => {
        ws.send(frame({ type: "leave" }));
        ws.close(CLOSE.normal);
      });
    } catch {
      // Best effort: the room ends by itself once nobody comes back.
    }
  }

  // ------------------------------------------------------------ state helpers

  private receive(m: ChatMessage): void {
    if (this.seen.has(m.id)) return;
    this.seen.add(m.id);
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
    this.emit("unsent", { clientId: refused.clientId, text: refused.text });
  }

  private paired(sessionId: string, partner: PartnerInfo, relaxed: Relaxed[]): void {
    if (this.saved) this.remember({ criteria: this.criteria, sessionId, wsUrl: this.saved.wsUrl, partner, relaxed });
    stopTimer(this.pollTimer);
    this.setStatus("chatting");
    if (this.announcedSession === sessionId) return;
    this.announcedSession = sessionId;
    this.emit("paired", { sessionId, partner, relaxed });
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
    this.sendFrame({ type: "message", text: m.text, clientId: m.clientId });
  }

  private sendFrame(f: ClientFrame): void {
    if (this.ws?.readyState === OPEN) this.ws.send(frame(f));
  }

  private end(reason: EndReason): void {
    this.showTyping(false);
    this.setStatus("ended");
    this.emit("ended", { reason });
  }

  /** Forgets everything about the current session except the criteria (for Next). */
  private reset(): void {
    this.abandon();
    this.saved = null;
    this.you = null;
    this.announcedSession = null;
    this.closedReason = null;
    this.reportSent = false;
    this.attempt = 0;
    this.refusals = 0;
    this.outbox = [];
    this.seen.clear();
  }

  /** Stops every timer and socket belonging to the current session. */
  private abandon(): void {
    this.epoch++;
    this.dropSocket();
    this.stopHeartbeat();
    stopTimer(this.pollTimer);
    stopTimer(this.reconnectTimer);
    stopTimer(this.typingIdleTimer);
  }

  private dropSocket(): void {
    const ws = this.ws;
    this.ws = null;
    if (ws && ws.readyState <= OPEN) ws.close(CLOSE.normal);
  }

  private remember(saved: Saved): void {
    this.saved = saved;
    void this.opts.store.setItem(this.opts.storeKey, JSON.stringify(saved));
  }

  private forget(): void {
    this.saved = null;
    void this.opts.store.removeItem(this.opts.storeKey);
  }

  private setStatus(status: Status): void {
    if (status === this.currentStatus) return;
    this.currentStatus = status;
    this.emit("status", { status });
  }

  private fail(error: ClientError): void {
    this.setStatus("idle");
    this.emit("error", error);
  }

  private emit<K extends keyof ClientEvents>(type: K, event: ClientEvents[K]): void {
    for (const listener of this.listeners.get(type) ?? []) (listener as Listener<K>)(event);
  }
}

// ---------------------------------------------------------------- helpers

const OPEN = 1;

type Timer = ReturnType<typeof setTimeout>;
/** Browsers, Node and workerd disagree on timer handle types; they agree on this. */
function stopTimer(timer: Timer | undefined): void {
  if (timer !== undefined) clearTimeout(timer);
}

const isResponse = (r: MatchResponse | ClientError): r is MatchResponse => "success" in r;

/** `{"type":"ping"}` must stay byte-exact: the server answers it without waking the room. */
const frame = (f: ClientFrame): string => JSON.stringify(f);

function parseSaved(raw: string): Saved | null {
  try {
    const saved = JSON.parse(raw) as Saved;
    return typeof saved.wsUrl === "string" && typeof saved.sessionId === "string" ? saved : null;
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
