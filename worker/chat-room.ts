/**
 * ChatRoom: one Durable Object per session. It is created by a waiting user (its owner),
 * accepts exactly one claim from a stranger, then relays the chat between the two over
 * hibernating WebSockets and keeps the last messages in SQLite. Because one object is
 * single-threaded and strongly consistent, every pairing decision is made here.
 */
import { DurableObject } from "cloudflare:workers";
import { nanoid } from "nanoid";
import { messageLogSampleRate, timings, widening, type Timings } from "./config";
import { deviceStub } from "./device";
import { errorResponse, rateLimited } from "./errors";
import { FloodGuard } from "./flood-guard";
import { log } from "./log";
import { count } from "./stats";
import {
  CLOSE,
  ClientFrame,
  LIMITS,
  chatUrl,
  type ChatMessage,
  type CloseReason,
  type ErrorCode,
  type Partner,
  type Relaxed,
  type ReportReason,
  type ServerFrame,
} from "./protocol";
import { queueKeyOf, waitingListFor, type Criteria, type QueueEntry, type WaitingList } from "./waiting-list";
import { relaxationBetween } from "./widening";

/** Who is asking to be in a room: fingerprints, never raw ids. */
export type Newcomer = {
  name: string;
  user: string;
  device: string;
  origin: string;
  /** Devices this one must not be paired with (recent partners, blocked). */
  avoid: string[];
  criteria: Criteria;
  anyLanguage: boolean;
  /** When this person started looking (now, for a newcomer): widening depends on how long both waited. */
  enqueuedAt: number;
};

type Participant = Newcomer & {
  /** Per-session alias the partner sees; never the userId or deviceId. */
  alias: string;
  token: string;
  /** Whether this participant ever connected, to tell "joined" from "back online" and catch no-shows. */
  joined: boolean;
};

/** What a participant needs to join a session, from its own point of view. */
export type Seat = { sessionId: string; token: string; partnerId: string; partnerName: string; relaxed: Relaxed[] };

type Meta = {
  sessionId: string;
  queueKey: string;
  status: "waiting" | "paired" | "moved";
  createdAt: number;
  /** The owner's waiting-list entry; `listed` while it is in the list. */
  entry: QueueEntry;
  listed: boolean;
  ownerSeenAt: number;
  /** While the owner is trying to claim someone else's room, nobody may claim this one. */
  reservation: { id: string; until: number } | null;
  pairedAt: number | null;
  lastActivity: number;
  /** [owner, claimer] */
  participants: Participant[];
  /** Set when the owner was seated in another room instead. */
  movedTo: Seat | null;
  /** Since when nobody has been connected to a paired room. */
  emptySince: number | null;
  /** What the pairing relaxed (widening); empty for an exact match. */
  relaxed: Relaxed[];
};

export type PollResult =
  | { status: "waiting"; sessionId: string; queueKey: string; entry: QueueEntry }
  | { status: "matched"; seat: Seat }
  | { status: "gone" };

export type ClaimResult =
  | { ok: true; seat: Seat }
  | { ok: false; reason: "gone" | "taken" | "busy" | "stale" | "self" | "avoided" | "incompatible" };

export type ReserveResult = { ok: true; reservation: string } | { ok: false; poll: PollResult };

type Attachment = { alias: string; connectedAt: number };

/** How long an owner's reservation shields its room; a claim elsewhere takes milliseconds. */
const RESERVATION_MS = 10_000;

export class ChatRoom extends DurableObject<Env> {
  private meta: Meta | null = null;
  /** Why this room ended, while this instance lives; after eviction an ended room is simply unknown. */
  private endedReason: CloseReason | null = null;
  private readonly t: Timings;
  private readonly sql: SqlStorage;
  private readonly waitingList: WaitingList;
  /** Share of messages logged as `chat.message`: at scale one line per message costs more than the relay. */
  private readonly messageLogRate: number;
  /** Message budgets per participant; in memory, as a flood only matters while it lasts. */
  private readonly floodGuards = new Map<string, FloodGuard>();
  /** Last frame per socket (pings answered by the runtime are read from the runtime instead). */
  private readonly lastFrameAt = new Map<WebSocket, number>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.t = timings(env);
    this.sql = ctx.storage.sql;
    this.waitingList = waitingListFor(env, this.t);
    this.messageLogRate = messageLogSampleRate(env);
    ctx.blockConcurrencyWhile(async () => {
      this.meta = (await ctx.storage.get<Meta>("meta")) ?? null;
      if (this.meta) this.meta.lastActivity = Math.max(this.meta.lastActivity, this.lastMessageAt());
    });
    // Heartbeats are answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
  }

  // ------------------------------------------------------------ matchmaking RPC

  /** Opens the room for a waiting owner and puts it on the waiting list. */
  async open(sessionId: string, owner: Newcomer): Promise<{ token: string; entry: QueueEntry }> {
    if (this.meta || this.endedReason) throw new Error(`room ${sessionId} already used`);
    const now = Date.now();
    const queueKey = queueKeyOf(owner.criteria);
    const participant: Participant = { ...owner, alias: nanoid(10), token: nanoid(32), joined: false };
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS messages (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, sender TEXT NOT NULL, text TEXT NOT NULL, at INTEGER NOT NULL, client_id TEXT)",
    );
    this.meta = {
      sessionId,
      queueKey,
      status: "waiting",
      createdAt: now,
      entry: {
        ...owner.criteria,
        sessionId,
        enqueuedAt: owner.enqueuedAt,
        seenAt: now,
        user: owner.user,
        device: owner.device,
        anyLanguage: owner.anyLanguage,
      },
      listed: true,
      ownerSeenAt: now,
      reservation: null,
      pairedAt: null,
      lastActivity: now,
      participants: [participant],
      movedTo: null,
      emptySince: null,
      relaxed: [],
    };
    await this.save();
    await this.refreshEntry(now);
    await this.scheduleAlarm(now);
    log("match.enqueued", { sessionId, queue: queueKey });
    count(this.env, { kind: "enqueued", queue: queueKey });
    return { token: participant.token, entry: this.meta.entry };
  }

  /** The owner (or a seated participant) asks where it stands; a poll keeps a waiting owner matchable. */
  async poll(token: string, user: string): Promise<PollResult> {
    const me = this.participantByToken(token);
    if (!this.meta || !me || me.user !== user) return { status: "gone" };
    if (this.meta.status === "waiting") await this.ownerSeen(Date.now());
    // Read the state after the awaits: a claim may have landed while the KV write was in flight.
    return this.standingOf(me);
  }

  /** The owner wants to claim an older room: shield this one from claims meanwhile. */
  async reserve(token: string, user: string): Promise<ReserveResult> {
    const poll = await this.poll(token, user);
    const now = Date.now();
    if (poll.status !== "waiting" || !this.meta || (this.meta.reservation && this.meta.reservation.until > now)) {
      return { ok: false, poll };
    }
    this.meta.reservation = { id: nanoid(), until: now + RESERVATION_MS };
    await this.save();
    return { ok: true, reservation: this.meta.reservation.id };
  }

  async release(reservation: string): Promise<void> {
    if (this.meta?.reservation?.id !== reservation) return;
    this.meta.reservation = null;
    await this.save();
  }

  /**
   * The owner was seated in another room while holding its reservation. Returns false if
   * the reservation lapsed, in which case the caller must give that other seat back.
   */
  async moveTo(reservation: string, seat: Seat): Promise<boolean> {
    const meta = this.meta;
    if (!meta || meta.status !== "waiting" || meta.reservation?.id !== reservation) return false;
    meta.status = "moved";
    meta.movedTo = seat;
    meta.reservation = null;
    meta.lastActivity = Date.now();
    await this.dropEntry();
    await this.save();
    const owner = meta.participants[0];
    this.send(owner.alias, {
      type: "matched",
      sessionId: seat.sessionId,
      partnerId: seat.partnerId,
      partnerName: seat.partnerName,
      wsUrl: chatUrl(owner.origin, seat.sessionId, seat.token),
      relaxed: seat.relaxed,
    });
    for (const ws of this.ctx.getWebSockets()) ws.close(CLOSE.moved, "paired in another room");
    count(this.env, { kind: "left_queue", queue: meta.queueKey });
    await this.scheduleAlarm(Date.now());
    return true;
  }

  /** A stranger asks to take this room. Exactly one claim ever succeeds. */
  async claim(stranger: Newcomer): Promise<ClaimResult> {
    const meta = this.meta;
    if (!meta) return { ok: false, reason: "gone" };
    if (meta.status !== "waiting") return { ok: false, reason: "taken" };
    const now = Date.now();
    const owner = meta.participants[0];
    if (owner.user === stranger.user || owner.device === stranger.device) return { ok: false, reason: "self" };
    if (owner.avoid.includes(stranger.device) || stranger.avoid.includes(owner.device)) return { ok: false, reason: "avoided" };
    if (meta.reservation && meta.reservation.until > now) return { ok: false, reason: "busy" };
    if (!this.ownerIsPresent(now)) return { ok: false, reason: "stale" };
    const relaxed = relaxationBetween(
      meta.entry,
      { ...stranger.criteria, enqueuedAt: stranger.enqueuedAt, anyLanguage: stranger.anyLanguage },
      now,
      widening(this.env),
    );
    if (!relaxed) return { ok: false, reason: "incompatible" };

    const claimer: Participant = { ...stranger, alias: nanoid(10), token: nanoid(32), joined: false };
    meta.participants.push(claimer);
    meta.status = "paired";
    meta.reservation = null;
    meta.pairedAt = now;
    meta.lastActivity = now;
    meta.relaxed = relaxed;
    await this.dropEntry();
    await this.save();
    await this.scheduleAlarm(now);
    this.send(owner.alias, { type: "paired", partner: this.partnerView(claimer), relaxed });
    log("match.paired", { sessionId: meta.sessionId, queue: meta.queueKey, waitedMs: now - meta.entry.enqueuedAt, relaxed: relaxed.join(",") });
    count(this.env, { kind: "paired", queue: meta.queueKey });
    return { ok: true, seat: this.seatFor(claimer) };
  }

  /**
   * The owner started a new search: a wait nobody took yet is dropped. Both ids must match,
   * so knowing someone's userId is not enough to cancel their wait.
   */
  async withdraw(user: string, device: string): Promise<void> {
    const owner = this.meta?.participants[0];
    if (this.meta?.status === "waiting" && owner?.user === user && owner.device === device) await this.end("superseded");
  }

  /** A participant gives up its place (a superseded wait, or a seat it cannot take after all). */
  async cancel(token: string): Promise<void> {
    if (!this.participantByToken(token)) return;
    await this.end(this.meta?.status === "paired" ? "partner_missing" : "superseded");
  }

  // ------------------------------------------------------------ WebSocket

  async fetch(request: Request): Promise<Response> {
    const token = new URL(request.url).searchParams.get("token");
    const admitted = this.admit(token);
    if (admitted instanceof Response) return admitted;
    // A client reconnecting in a loop would keep the room busy replacing sockets: cool it down.
    const { success } = await this.env.CONNECT_PER_DEVICE.limit({ key: admitted.device });
    if (!success) {
      log("ratelimit.hit", { limiter: "connect", sessionId: this.meta?.sessionId }, "warn");
      return rateLimited("connections").getResponse();
    }
    // The room may have ended while the limiter answered.
    const me = this.admit(token);
    if (me instanceof Response) return me;
    const meta = this.meta!;

    const now = Date.now();
    const { 0: client, 1: server } = new WebSocketPair();
    const previous = this.ctx.getWebSockets(me.alias);
    this.ctx.acceptWebSocket(server, [me.alias]);
    server.serializeAttachment({ alias: me.alias, connectedAt: now } satisfies Attachment);
    // A reconnect (page refresh, network change) takes over from the old socket.
    for (const ws of previous) ws.close(CLOSE.replaced, "replaced by a newer connection");

    const firstTime = !me.joined;
    if (firstTime || meta.emptySince !== null) {
      me.joined = true;
      meta.emptySince = null;
      await this.save();
    }
    const partner = this.partnerOf(me);
    this.sendTo(server, {
      type: "welcome",
      sessionId: meta.sessionId,
      you: { id: me.alias, name: me.name },
      status: meta.status === "paired" ? "paired" : "waiting",
      partner: partner ? this.partnerView(partner) : null,
      history: this.history(),
    });
    if (partner && previous.length === 0) {
      this.send(
        partner.alias,
        firstTime ? { type: "partner_joined", partner: this.partnerView(me) } : { type: "partner_online", partnerId: me.alias },
      );
    }
    // While the owner holds a waiting socket it stays matchable; the alarm keeps its entry fresh.
    if (meta.status === "waiting") meta.ownerSeenAt = now;
    meta.lastActivity = now;
    await this.scheduleAlarm(now);
    log("ws.connected", { sessionId: meta.sessionId, participant: me.alias, status: meta.status, reconnect: !firstTime });
    return new Response(null, { status: 101, webSocket: client });
  }

  async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    const { alias } = ws.deserializeAttachment() as Attachment;
    const meta = this.meta;
    if (!meta) return ws.close(CLOSE.ended, "chat ended");
    const now = Date.now();
    this.lastFrameAt.set(ws, now);
    if (typeof data !== "string") return this.reject(ws, "unsupported_data", "Frames must be JSON text.");
    if (data.length > LIMITS.frameBytes) return this.reject(ws, "frame_too_large", `Frames must be at most ${LIMITS.frameBytes} bytes.`);
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      return this.reject(ws, "invalid_frame", "Frames must be valid JSON.");
    }
    const parsed = ClientFrame.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue.path.length ? `${issue.path.join(".")}: ` : "";
      return this.reject(ws, "invalid_frame", `${field}${issue.message}`);
    }
    const frame = parsed.data;
    if (frame.type === "ping") return this.sendTo(ws, { type: "pong" });

    const verdict = this.floodGuard(alias, now).take(now);
    if (verdict === "disconnect") {
      log("ratelimit.flood_disconnect", { sessionId: meta.sessionId, participant: alias }, "warn");
      ws.close(CLOSE.flooding, "too many messages");
      return this.disconnected(ws, CLOSE.flooding);
    }
    if (verdict === "refuse") {
      const refused = frame.type === "message" ? frame.clientId : undefined;
      return this.reject(ws, "rate_limited", "You are sending too fast; that frame was not delivered.", refused);
    }

    const me = this.participantByAlias(alias)!;
    const partner = this.partnerOf(me);
    switch (frame.type) {
      case "typing":
        if (partner) this.send(partner.alias, { type: "typing", from: alias, isTyping: frame.isTyping });
        return;
      case "message": {
        if (meta.status !== "paired") return this.reject(ws, "not_paired", "Wait for a stranger before sending messages.");
        const message: ChatMessage = { id: nanoid(12), from: alias, text: frame.text, at: now };
        if (frame.clientId) message.clientId = frame.clientId;
        this.store(message);
        meta.lastActivity = now;
        this.broadcast({ type: "message", ...message });
        if (Math.random() < this.messageLogRate) {
          log("chat.message", { sessionId: meta.sessionId, participant: alias, length: message.text.length });
        }
        return;
      }
      case "leave":
        if (partner) this.send(partner.alias, { type: "partner_left", partnerId: alias });
        log("chat.left", { sessionId: meta.sessionId, participant: alias });
        return this.end("left");
      case "report":
        if (!partner || meta.status !== "paired") return this.reject(ws, "not_paired", "There is nobody to report.");
        return this.report(me, partner, frame.reason);
    }
  }

  async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    // Complete the closing handshake, or the client sits in CLOSING and sees 1006.
    try {
      ws.close(code === 1005 || code === 1006 ? CLOSE.normal : code, reason);
    } catch {
      // already closed
    }
    await this.disconnected(ws, code);
  }

  async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    log("ws.error", { sessionId: this.meta?.sessionId, error: String(error) }, "warn");
    await this.disconnected(ws, 1006);
  }

  // ------------------------------------------------------------ alarm

  /** Alarms run at least once, so every branch is safe to run again. */
  async alarm(): Promise<void> {
    const meta = this.meta;
    if (!meta) {
      await this.ctx.storage.deleteAll();
      return;
    }
    const now = Date.now();
    // Closed tabs do not always say goodbye: a socket that stopped pinging is gone.
    for (const ws of this.ctx.getWebSockets()) {
      if (now - this.lastSeen(ws) > this.t.heartbeatTimeoutMs) {
        ws.close(CLOSE.stale, "heartbeat timeout");
        await this.disconnected(ws, CLOSE.stale);
      }
    }
    const deadline = this.endDeadline();
    if (deadline && now >= deadline.at) {
      if (deadline.reason === "expired" && meta.status === "waiting") {
        log("match.expired", { sessionId: meta.sessionId, queue: meta.queueKey, waitedMs: now - meta.entry.enqueuedAt });
      }
      return this.end(deadline.reason);
    }
    if (meta.status === "waiting" && this.hasLiveSocket(meta.participants[0].alias, now)) await this.ownerSeen(now);
    await this.scheduleAlarm(now);
  }

  /** The earliest moment this room must end, and why. */
  private endDeadline(): { at: number; reason: CloseReason } | null {
    const meta = this.meta!;
    const { queueTtlMs, roomIdleMs } = this.t;
    const deadlines: { at: number; reason: CloseReason }[] = [];
    switch (meta.status) {
      case "waiting":
        if (!this.hasLiveSocket(meta.participants[0].alias, Date.now())) {
          deadlines.push({ at: meta.ownerSeenAt + queueTtlMs, reason: "expired" });
        }
        break;
      case "moved":
        // The forwarding address lives one window, so the owner's next poll finds its match.
        deadlines.push({ at: meta.lastActivity + queueTtlMs, reason: "expired" });
        break;
      case "paired":
        deadlines.push({ at: meta.lastActivity + roomIdleMs, reason: "idle" });
        if (meta.participants.some((p) => !p.joined)) deadlines.push({ at: (meta.pairedAt ?? 0) + queueTtlMs, reason: "partner_missing" });
        if (meta.emptySince !== null) deadlines.push({ at: meta.emptySince + queueTtlMs, reason: "idle" });
        break;
    }
    return deadlines.reduce<{ at: number; reason: CloseReason } | null>((first, d) => (!first || d.at < first.at ? d : first), null);
  }

  /** One alarm serves every timer: the next end deadline, or the next heartbeat sweep while sockets are open. */
  private async scheduleAlarm(now: number): Promise<void> {
    const meta = this.meta!;
    const times = [this.endDeadline()?.at ?? Infinity];
    if (this.ctx.getWebSockets().length > 0) times.push(now + this.t.heartbeatTimeoutMs / 2);
    if (meta.status === "waiting" && this.hasLiveSocket(meta.participants[0].alias, now)) times.push(now + this.t.queueTtlMs / 3);
    const next = Math.min(...times);
    if (next !== Infinity) await this.ctx.storage.setAlarm(Math.max(next, now + 1));
  }

  // ------------------------------------------------------------ internals

  /** Ends the room for good: tells everyone, closes sockets, forgets everything. Idempotent. */
  private async end(reason: CloseReason): Promise<void> {
    const meta = this.meta;
    // Forget first, before any await, so no claim or connect can slip in while we clean up.
    this.meta = null;
    this.endedReason = reason;
    if (meta) {
      this.broadcast({ type: "closed", reason });
      for (const ws of this.ctx.getWebSockets()) ws.close(CLOSE.ended, `chat ended: ${reason}`);
      log("room.cleaned", { sessionId: meta.sessionId, reason, status: meta.status, ageMs: Date.now() - meta.createdAt, messages: this.messageCount() });
      if (meta.status === "waiting") count(this.env, { kind: "left_queue", queue: meta.queueKey });
      if (meta.status === "paired") count(this.env, { kind: "room_closed" });
      if (meta.listed) await this.waitingList.remove(meta.entry);
    }
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }

  private async disconnected(ws: WebSocket, code: number): Promise<void> {
    this.lastFrameAt.delete(ws);
    const meta = this.meta;
    if (!meta) return;
    const { alias } = ws.deserializeAttachment() as Attachment;
    const now = Date.now();
    log("ws.disconnected", { sessionId: meta.sessionId, participant: alias, code });
    if (this.hasLiveSocket(alias, now, ws)) return;
    if (meta.status === "waiting") {
      // The queue window runs from the socket's last sign of life; without a poll the owner drops out.
      meta.ownerSeenAt = Math.max(meta.ownerSeenAt, this.lastSeen(ws));
    } else if (meta.status === "paired") {
      const partner = this.partnerOf(this.participantByAlias(alias));
      if (partner) this.send(partner.alias, { type: "partner_offline", partnerId: alias });
      if (!this.ctx.getWebSockets().some((other) => other !== ws && other.readyState === WebSocket.OPEN)) meta.emptySince = now;
    }
    await this.save();
    await this.scheduleAlarm(now);
  }

  /** Ends the chat, bans past the threshold, and the reporter never meets that device again. */
  private async report(reporter: Participant, reported: Participant, reason: ReportReason): Promise<void> {
    log("chat.reported", { sessionId: this.meta!.sessionId, participant: reporter.alias, reason });
    await Promise.all([deviceStub(this.env, reported.device).reported(reason), deviceStub(this.env, reporter.device).blocked(reported.device)]);
    await this.end("reported");
  }

  /** Who may connect: the holder of a participant token of a live room; anyone else gets the reason. */
  private admit(token: string | null): Participant | Response {
    if (!this.meta) {
      return this.endedReason
        ? errorResponse(410, "session_ended", "This chat has ended; start a new match.")
        : errorResponse(404, "session_not_found", "No such chat session.");
    }
    if (!token) return errorResponse(401, "missing_token", "A token is required to join this chat.");
    const me = this.participantByToken(token);
    if (!me) return errorResponse(403, "invalid_token", "This token does not belong to this chat.");
    if (this.meta.status === "moved") return errorResponse(410, "session_ended", "You were paired in another chat.");
    return me;
  }

  private reject(ws: WebSocket, code: ErrorCode, message: string, clientId?: string): void {
    log("ws.rejected_frame", { sessionId: this.meta?.sessionId, code }, "warn");
    this.sendTo(ws, clientId ? { type: "error", code, message, clientId } : { type: "error", code, message });
  }

  private ownerIsPresent(now: number): boolean {
    const meta = this.meta!;
    return now - meta.ownerSeenAt <= this.t.queueTtlMs || this.hasLiveSocket(meta.participants[0].alias, now);
  }

  /** When a socket last showed life: connected, sent a frame, or pinged (answered without waking us). */
  private lastSeen(ws: WebSocket): number {
    const { connectedAt } = ws.deserializeAttachment() as Attachment;
    const pingedAt = this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0;
    return Math.max(connectedAt, pingedAt, this.lastFrameAt.get(ws) ?? 0);
  }

  private hasLiveSocket(alias: string, now: number, except?: WebSocket): boolean {
    return this.ctx
      .getWebSockets(alias)
      .some((ws) => ws !== except && ws.readyState === WebSocket.OPEN && now - this.lastSeen(ws) <= this.t.heartbeatTimeoutMs);
  }

  private floodGuard(alias: string, now: number): FloodGuard {
    let guard = this.floodGuards.get(alias);
    if (!guard) this.floodGuards.set(alias, (guard = new FloodGuard(now)));
    return guard;
  }

  /** When the KV entry last said the owner was there (written at most every third of the window). */
  private entrySeenAt = 0;

  /**
   * The waiting owner showed life (a poll, or its live socket at an alarm). Persisted, with
   * the list entry, once per third of the window rather than every time: after an eviction
   * the owner looks at most that much staler.
   */
  private async ownerSeen(now: number): Promise<void> {
    this.meta!.ownerSeenAt = now;
    if (now - this.entrySeenAt < this.t.queueTtlMs / 3) return;
    await this.save();
    await this.refreshEntry(now);
  }

  private async refreshEntry(now: number): Promise<void> {
    const meta = this.meta!;
    if (!meta.listed) return;
    this.entrySeenAt = now;
    meta.entry.seenAt = now;
    await this.waitingList.put({ ...meta.entry });
    // A claim may have taken the room (and removed the entry) while the write was in flight.
    if (this.meta !== meta || !meta.listed) await this.waitingList.remove(meta.entry);
  }

  private async dropEntry(): Promise<void> {
    const meta = this.meta;
    if (!meta?.listed) return;
    meta.listed = false;
    await this.waitingList.remove(meta.entry);
  }

  private standingOf(me: Participant): PollResult {
    const meta = this.meta;
    if (!meta) return { status: "gone" };
    if (meta.status === "moved") return { status: "matched", seat: meta.movedTo! };
    if (meta.status === "paired") return { status: "matched", seat: this.seatFor(me) };
    return { status: "waiting", sessionId: meta.sessionId, queueKey: meta.queueKey, entry: meta.entry };
  }

  private async save(): Promise<void> {
    await this.ctx.storage.put("meta", this.meta);
  }

  private participantByToken(token: string): Participant | undefined {
    return this.meta?.participants.find((p) => p.token === token);
  }

  private participantByAlias(alias: string): Participant | undefined {
    return this.meta?.participants.find((p) => p.alias === alias);
  }

  private partnerOf(me: Participant | undefined): Participant | undefined {
    return me && this.meta?.participants.find((p) => p.alias !== me.alias);
  }

  private seatFor(me: Participant): Seat {
    const partner = this.partnerOf(me)!;
    return { sessionId: this.meta!.sessionId, token: me.token, partnerId: partner.alias, partnerName: partner.name, relaxed: this.meta!.relaxed };
  }

  private partnerView(p: Participant): Partner {
    return { id: p.alias, name: p.name, online: this.hasLiveSocket(p.alias, Date.now()) };
  }

  /** One write per message: older rows are trimmed in a batch every `historySize` messages. */
  private store(m: ChatMessage): void {
    const { seq } = this.sql
      .exec<{ seq: number }>(
        "INSERT INTO messages (id, sender, text, at, client_id) VALUES (?, ?, ?, ?, ?) RETURNING seq",
        m.id,
        m.from,
        m.text,
        m.at,
        m.clientId ?? null,
      )
      .one();
    if (seq % LIMITS.historySize === 0) this.sql.exec("DELETE FROM messages WHERE seq <= ?", seq - LIMITS.historySize);
  }

  private history(): ChatMessage[] {
    return this.sql
      .exec<{ id: string; sender: string; text: string; at: number; client_id: string | null }>(
        "SELECT id, sender, text, at, client_id FROM messages ORDER BY seq DESC LIMIT ?",
        LIMITS.historySize,
      )
      .toArray()
      .reverse()
      .map((r) => ({ id: r.id, from: r.sender, text: r.text, at: r.at, ...(r.client_id ? { clientId: r.client_id } : {}) }));
  }

  /** Messages ever sent in this room (AUTOINCREMENT never reuses a number). */
  private messageCount(): number {
    return this.sql.exec<{ n: number | null }>("SELECT MAX(seq) AS n FROM messages").one().n ?? 0;
  }

  private lastMessageAt(): number {
    const row = this.sql.exec<{ at: number | null }>("SELECT MAX(at) AS at FROM messages").toArray()[0];
    return row?.at ?? 0;
  }

  private send(alias: string, frame: ServerFrame): void {
    for (const ws of this.ctx.getWebSockets(alias)) this.sendTo(ws, frame);
  }

  private broadcast(frame: ServerFrame): void {
    for (const ws of this.ctx.getWebSockets()) this.sendTo(ws, frame);
  }

  private sendTo(ws: WebSocket, frame: ServerFrame): void {
    try {
      ws.send(JSON.stringify(frame));
    } catch {
      // The socket is closing; its close handler deals with presence.
    }
  }
}
