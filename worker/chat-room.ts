/**
 * ChatRoom: one Durable Object per pairing, named by its sessionId. It relays the chat over
 * hibernating WebSockets and keeps the last messages in SQLite. Its rules live in
 * room-rules.ts; this object applies them (socket-object.ts) and carries out what they
 * decide. No periodic alarm: pings are answered by the runtime, so a quiet chat sleeps until
 * someone speaks or a real deadline comes.
 */
import { nanoid } from "nanoid";
import { messageLogSampleRate, timings } from "./config";
import { rateLimited } from "./errors";
import { log } from "./log";
import { meter, meterStorage } from "./metering";
import { PASS, type MessageFilter, type Verdict } from "./moderation";
import { filterFor } from "./moderation-setup";
import { CLOSE, LIMITS, type ChatMessage, type ParsedClientFrame, type ServerFrame } from "./protocol";
import * as rules from "./room-rules";
import { sessionIdOf, type Live, type RoomEffect, type RoomRules, type RoomSetup, type RoomState } from "./room-rules";
import { SocketObject, attachmentOf, close, send } from "./socket-object";
import { count } from "./stats";
import { deviceStub, seatStub } from "./stubs";

/** How often per heartbeat timeout a message reads the sockets' liveness. */
const LIVENESS_READS_PER_TIMEOUT = 6;

export class ChatRoom extends SocketObject<RoomState, RoomEffect> {
  private readonly rules: RoomRules;
  private readonly sql: SqlStorage;
  private readonly messageLogRate: number;
  /** The seat's answer for the claimer's first connection, while it is on its way. */
  private confirming: Promise<unknown> | null = null;
  /** Messages stored so far (null until read in this wake). */
  private sent: number | null = null;
  private readonly filter: MessageFilter;
  /** When a message last read the sockets' liveness (liveNowAndThen). */
  private livenessReadAt = 0;
  /** The message being relayed: each waits for the one before, so a slow verdict never lets a later message overtake. */
  private messageTurn: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, { kind: "room", keepsEnded: true, alarmsComeEarly: false });
    const t = timings(env);
    this.rules = { connectWindowMs: t.connectWindowMs, roomIdleMs: t.roomIdleMs, heartbeatTimeoutMs: t.heartbeatTimeoutMs, emptyRoomMs: t.queueTtlMs };
    this.sql = ctx.storage.sql;
    this.messageLogRate = messageLogSampleRate(env);
    this.filter = filterFor(env);
  }

  /** The room's one unit: its pairing, by sessionId (null until opened). */
  private get state(): RoomState | null {
    return this.units.values().next().value ?? null;
  }

  private get sessionId(): string {
    return sessionIdOf(this.state!);
  }

  /** From the waiter's seat, when a stranger claims it: the pairing, pending the claimer's connection. */
  async open(setup: RoomSetup): Promise<void> {
    if (this.state) throw new Error(`room ${setup.sessionId} already used`);
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS history (slot INTEGER PRIMARY KEY, seq INTEGER NOT NULL, id TEXT NOT NULL, sender TEXT NOT NULL, text TEXT NOT NULL, at INTEGER NOT NULL, client_id TEXT, masked INTEGER)",
    );
    await this.apply(setup.sessionId, { state: rules.open(setup, Date.now()), effects: [], reply: undefined });
  }

  /** From a device record: that device was banned, so its chat ends. */
  async evict(device: string): Promise<void> {
    if (this.state) await this.apply(this.sessionId, rules.evict(this.state, device, Date.now()));
  }

  // ------------------------------------------------------------ what happens

  protected unitOf(request: Request): string | null {
    return new URL(request.url).searchParams.get("sessionId");
  }

  protected async onFrame(ws: WebSocket, key: string, frame: ParsedClientFrame, alias: string | null): Promise<void> {
    if (alias === null) return this.identify(ws, key, frame.type === "hello" ? frame.token : null);
    // The claimer's first frames wait for the seat's answer: a quick "leave" must not race it.
    while (this.confirming) await this.confirming;
    if (frame.type === "hello" || !this.state) return;
    const now = Date.now();
    switch (frame.type) {
      case "message": {
        // Judged at once (a classifier may take a while, and the next message need not wait for
        // this one's verdict), relayed in the order sent.
        const verdict = this.state.kind === "chatting" ? this.moderate(frame.text, this.state.setup.languages, key) : Promise.resolve(PASS);
        const turn = this.messageTurn.then(async () => this.relay(ws, key, frame, alias, await verdict));
        this.messageTurn = turn.catch(() => {});
        return turn;
      }
      case "typing":
        return this.apply(key, rules.typing(this.state, alias, frame.isTyping));
      case "leave":
        return this.apply(key, rules.leave(this.state, alias, now));
      case "report": {
        const refused = await this.apply(key, rules.report(this.state, alias, frame.reason, now));
        if (refused) this.reject(ws, key, refused.code, refused.message);
        return;
      }
    }
  }

  /** The first frame: whose socket is this? The claimer's first connection waits for the seat's confirmation. */
  private async identify(ws: WebSocket, key: string, token: string | null): Promise<void> {
    if (!token) return this.refuse(ws, key, "invalid_frame", 'The first frame must be {"type":"hello","token":…}.', CLOSE.unauthorized);
    const side = this.state && rules.sideByToken(this.state, token);
    // A client reconnecting in a loop would keep the room busy replacing sockets: cool it down (a first join is never a loop).
    if (side && rules.rejoining(this.state!, token) && !(await this.env.CONNECT_PER_DEVICE.limit({ key: side.device })).success) {
      log("ratelimit.hit", { limiter: "connect", ...this.ids(key) }, "warn");
      return this.refuse(ws, key, "rate_limited", rateLimited("connections").message, CLOSE.flooding);
    }
    // A second socket of the claimer while the seat answers the first waits for that answer.
    while (this.confirming) await this.confirming;
    if (!this.state) return this.refuse(ws, key, "session_ended", "This chat has ended; start a new match.", CLOSE.ended);
    const step = rules.hello(this.state, token, Date.now(), this.live());
    if (!step.reply.ok) {
      if (step.reply.code === "invalid_token") return this.refuseToken(ws, key);
      return this.refuse(ws, key, "session_ended", "This chat has ended; start a new match.", CLOSE.ended);
    }
    this.adopt(ws, step.reply.alias);
    const applying = this.apply(key, step, ws);
    if (step.effects.some((e) => e.type === "confirm")) this.confirming = applying.finally(() => (this.confirming = null));
    await applying;
    log("ws.connected", { ...this.ids(key), participant: step.reply.alias });
  }

  protected async onGone(_ws: WebSocket, key: string, alias: string | null, code: number): Promise<void> {
    if (!this.state || alias === null) return;
    log("ws.disconnected", { ...this.ids(key), participant: alias, code });
    await this.apply(key, rules.socketGone(this.state, alias, Date.now(), this.live()));
  }

  protected async onAlarm(key: string, loaded: RoomState): Promise<void> {
    const now = Date.now();
    // A message is saved as its row only, so after a restart the newest row is the room's last activity.
    const state = loaded.kind === "chatting" ? { ...loaded, lastActivity: Math.max(loaded.lastActivity, this.lastMessageAt()) } : loaded;
    // A socket that never said hello within a heartbeat timeout is not going to (its pings do not count).
    for (const ws of this.ctx.getWebSockets()) {
      const { alias, connectedAt } = attachmentOf(ws);
      if (alias === null && now - connectedAt > this.rules.heartbeatTimeoutMs) close(ws, CLOSE.unauthorized, "no hello");
    }
    await this.apply(key, rules.alarm(state, now, this.live(), this.rules));
  }

  // ------------------------------------------------------------ carrying out the rules

  protected nextAlarm(_key: string, state: RoomState): number | null {
    return rules.nextAlarm(state, this.rules);
  }

  protected loaded(_key: string, state: RoomState): RoomState {
    // The last activity saved may be older than the newest message: the idle alarm then comes
    // early, reads the newest message (onAlarm) and moves on. Waking costs no query.
    // A confirmation in flight did not survive the restart: the claimer's next hello asks again.
    if (state.kind === "pending") state.confirming = false;
    return state;
  }

  protected ids(key: string) {
    return { sessionId: key };
  }

  protected async perform(key: string, e: RoomEffect, current?: WebSocket): Promise<void> {
    switch (e.type) {
      case "send":
        for (const ws of this.sockets(key, e.to)) send(ws, e.frame);
        return;
      case "welcome":
        if (current) send(current, { ...e.frame, history: this.history() });
        return;
      case "retire":
        for (const ws of this.sockets(key, e.alias)) if (ws !== current) close(ws, CLOSE.replaced, "replaced by a newer connection");
        return;
      case "drop":
        for (const ws of this.sockets(key, e.alias)) close(ws, e.code, e.reason), this.forgetSocket(ws);
        return;
      case "close_all":
        for (const ws of this.ctx.getWebSockets()) close(ws, e.code, e.reason);
        return;
      case "store":
        return this.store(key, e.message);
      case "confirm": {
        const ok = await seatStub(this.env, e.seatId)
          .confirm(e.seatId, e.sessionId)
          .catch(() => false);
        if (this.state) await this.apply(key, rules.confirmed(this.state, ok, Date.now(), this.live()), current);
        return;
      }
      case "met": {
        const [a, b] = e.devices;
        return this.onDevices(deviceStub(this.env, a).met(a, b, e.sessionId), deviceStub(this.env, b).met(b, a, e.sessionId));
      }
      case "report":
        return this.onDevices(deviceStub(this.env, e.reported).reported(e.reported, e.by, e.reason), deviceStub(this.env, e.by).blocked(e.by, e.reported));
      case "log":
        return log(e.event, e.fields);
      case "count":
        return count(this.env, e.event, key);
      case "erase":
        if (e.cleaned) log("room.cleaned", { ...e.cleaned, messages: this.messageCount() });
        return this.eraseAll();
    }
  }

  /** Every message of a chat is stored or relayed only with the filter's verdict (one sent outside a chat is refused unjudged). */
  private async relay(ws: WebSocket, key: string, frame: Extract<ParsedClientFrame, { type: "message" }>, alias: string, verdict: Verdict): Promise<void> {
    if (!this.state) return;
    const m = { id: nanoid(12), text: frame.text, ...(frame.clientId ? { clientId: frame.clientId } : {}) };
    const now = Date.now();
    const refused = await this.apply(key, rules.message(this.state, alias, m, verdict, now, this.liveNowAndThen(now), this.rules));
    if (refused) this.reject(ws, key, refused.code, refused.message, frame.clientId);
  }

  /** A filter that fails lets the message through: the chat goes on. Rooms opened before moderation apply every list. */
  private async moderate(text: string, languages: string[] = ["any"], key: string): Promise<Verdict> {
    try {
      return await this.filter.check(text, languages);
    } catch (err) {
      log("moderation.failed", { sessionId: key, error: String(err) }, "warn");
      return PASS;
    }
  }

  /** Device records are bookkeeping for later matches: the chat goes on whether or not they answer. */
  private async onDevices(...updates: Promise<unknown>[]): Promise<void> {
    const failed = (await Promise.allSettled(updates)).find((r) => r.status === "rejected");
    if (failed) log("device.update_failed", { sessionId: this.sessionId, error: String((failed as PromiseRejectedResult).reason) }, "warn");
  }

  /**
   * Liveness for a message, at most a few times per heartbeat timeout: reading it asks the
   * runtime about every socket, and a chat sends a message every few seconds. A partner who
   * vanished is still noticed within a fraction of the timeout of the next message.
   */
  private liveNowAndThen(now: number): Live | null {
    if (now - this.livenessReadAt < this.rules.heartbeatTimeoutMs / LIVENESS_READS_PER_TIMEOUT) return null;
    this.livenessReadAt = now;
    return this.live();
  }

  /** When each participant's open sockets last showed life. */
  private live(): Live {
    const live: Live = {};
    for (const ws of this.sockets(this.sessionId, "all")) {
      const alias = attachmentOf(ws).alias!;
      live[alias] = Math.max(live[alias] ?? 0, this.lastSeen(ws));
    }
    return live;
  }

  // ------------------------------------------------------------ history

  /**
   * One row written per message: the history is a ring of `historySize` slots, each message
   * overwriting the oldest (a trim would write a second row per message, and rows written are
   * what storage bills). The partner's copy goes out first, so it is not held for the write
   * (the runtime holds every frame sent after a write until that write is durable). The
   * sender's copy, its acknowledgement, is sent after: an acknowledged message is a stored one.
   */
  private store(key: string, m: ChatMessage): void {
    const frame = JSON.stringify({ type: "message", ...m } satisfies ServerFrame);
    const sockets = this.sockets(key, "all");
    for (const ws of sockets) if (attachmentOf(ws).alias !== m.from) send(ws, frame);
    const seq = this.messageCount() + 1;
    const written = this.sql.exec(
      "INSERT INTO history (slot, seq, id, sender, text, at, client_id, masked) VALUES (?, ?, ?, ?, ?, ?, ?, ?) " +
        "ON CONFLICT (slot) DO UPDATE SET seq = excluded.seq, id = excluded.id, sender = excluded.sender, text = excluded.text, at = excluded.at, " +
        "client_id = excluded.client_id, masked = excluded.masked",
      seq % LIMITS.historySize,
      seq,
      m.id,
      m.from,
      m.text,
      m.at,
      m.clientId ?? null,
      m.masked ? 1 : null,
    );
    this.sent = seq;
    meterStorage("rows.written", "room.message", written.rowsWritten);
    for (const ws of sockets) if (attachmentOf(ws).alias === m.from) send(ws, frame);
    if (Math.random() < this.messageLogRate) log("chat.message", { sessionId: key, participant: m.from, length: m.text.length });
  }

  private history(): ChatMessage[] {
    const rows = this.sql
      .exec<{ id: string; sender: string; text: string; at: number; client_id: string | null; masked: number | null }>(
        "SELECT id, sender, text, at, client_id, masked FROM history ORDER BY seq",
      )
      .toArray();
    meter("rows.read", rows.length);
    return rows.map((r) => ({ id: r.id, from: r.sender, text: r.text, at: r.at, ...(r.client_id ? { clientId: r.client_id } : {}), ...(r.masked ? { masked: true as const } : {}) }));
  }

  /** Messages ever sent in this room: read once per wake, then counted. */
  private messageCount(): number {
    this.sent ??= this.tableExists() ? (this.sql.exec<{ n: number | null }>("SELECT MAX(seq) AS n FROM history").one().n ?? 0) : 0;
    return this.sent;
  }

  private lastMessageAt(): number {
    return this.tableExists() ? (this.sql.exec<{ at: number | null }>("SELECT MAX(at) AS at FROM history").one().at ?? 0) : 0;
  }

  private tableExists(): boolean {
    return this.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'history'").toArray().length > 0;
  }
}
