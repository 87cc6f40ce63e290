/**
 * What the two socket-holding objects (ChatRoom, WaitingSeats) share: a Durable Object that
 * runs one or more *units*, each a state whose decisions are pure rules
 * (`state → { state, effects }`), and whose clients are hibernating WebSockets. A chat room
 * runs one unit (its pairing); a shard of waiting seats runs many (one per waiter), so a
 * wait costs no object of its own. It loads every unit once, applies a step to one unit
 * (saving that unit and the object's next alarm before anything leaves the object, then
 * carrying out the effects), keeps one alarm at the earliest deadline of all units, accepts
 * sockets for a unit that identify themselves with a `hello` frame, reads frames, and tells
 * a live socket from a vanished one. partyserver's `Server` is the model; the subclasses
 * say only what is theirs.
 */
import { DurableObject } from "cloudflare:workers";
import { errorResponse } from "./errors";
import { FloodGuard } from "./flood-guard";
import { log, type LogFields } from "./log";
import { meter, meterStorage } from "./metering";
import { CLOSE, ClientFrame, LIMITS, PING, PONG, type ErrorCode, type ParsedClientFrame, type ServerFrame } from "./protocol";

/**
 * Kept in the socket itself, so it survives hibernation. `unit` is whose socket it is (a
 * session, a seat); `alias` is null until the socket's `hello`; `network` is the budget key
 * the worker charged the upgrade to ("" if exempt).
 */
export type Attachment = { unit: string; alias: string | null; connectedAt: number; network: string };

/** Set by the worker on the upgrade it forwards (replacing anything a client sent). */
export const NETWORK_HEADER = "X-Strangers-Network";
/** A hello with a wrong token costs its network this many socket upgrades: guessing stops after a few tries. */
const FAILED_HELLO_COST = 10;

/** One application of the rules. `persist: false`: the state need not be written (see ChatRoom). */
export type AnyStep<S, E, R> = { state: S; effects: E[]; reply: R; persist?: false };

/** Sockets of one unit that connected but have not said who they are yet; more are not worth holding. */
const MAX_UNIDENTIFIED = 4;
/** Where each unit's state is stored. */
const UNIT_KEY = "unit:";

/** Attachments read once per socket object: every frame and every broadcast asks, and deserializing is not free. */
const attachments = new WeakMap<WebSocket, Attachment>();

export function attachmentOf(ws: WebSocket): Attachment {
  let a = attachments.get(ws);
  if (!a) attachments.set(ws, (a = ws.deserializeAttachment() as Attachment));
  return a;
}

function attach(ws: WebSocket, a: Attachment): void {
  ws.serializeAttachment(a);
  attachments.set(ws, a);
}

export abstract class SocketObject<S extends { kind: string }, E> extends DurableObject<Env> {
  /** Every unit by key. Erased units are forgotten, unless `keepsEnded` (a room answers "ended" until evicted). */
  protected readonly units = new Map<string, S>();
  /** Each unit's next real deadline; the object's one alarm is the earliest. */
  private readonly deadlines = new Map<string, number>();
  /** Last frame per socket (pings are answered by the runtime, which keeps their time itself). */
  private readonly lastFrameAt = new Map<WebSocket, number>();
  /** Frame budgets by unit: per participant (so a reconnect does not refill it), or per socket before its hello. */
  private readonly budgets = new Map<string, Map<string | WebSocket, FloodGuard>>();
  /** Sockets already handled as gone: a socket we closed ourselves still reports its close event. */
  private readonly departed = new WeakSet<WebSocket>();
  private scheduledAlarm: number | null = null;

  constructor(
    ctx: DurableObjectState,
    env: Env,
    private readonly o: {
      /** Names the wake-up counts (`room.event`, `seat.alarm`, …) in /api/stats. */ kind: "room" | "seat";
      keepsEnded: boolean;
      /** A deadline moved later leaves the alarm to come early and recompute: for a shard of many seats (it wakes often anyway), not a room (a quiet chat sleeps until a real deadline). */
      alarmsComeEarly: boolean;
    },
  ) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      for (const [stored, state] of await ctx.storage.list<S>({ prefix: UNIT_KEY })) {
        const key = stored.slice(UNIT_KEY.length);
        this.units.set(key, this.loaded(key, state));
      }
      for (const [key, state] of this.units) this.track(key, state);
      this.scheduledAlarm = await ctx.storage.getAlarm();
    });
    // Heartbeats are answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
  }

  /** Which unit a socket request is for (from its URL), or null. */
  protected abstract unitOf(request: Request): string | null;
  /** The next real deadline of a unit, or null. */
  protected abstract nextAlarm(key: string, state: S): number | null;
  protected abstract perform(key: string, effect: E, current?: WebSocket): Promise<void>;
  /** A valid frame other than a ping, on a socket of unit `key`; `alias` is null until the socket said hello. */
  protected abstract onFrame(ws: WebSocket, key: string, frame: ParsedClientFrame, alias: string | null): Promise<void>;
  /** A socket of unit `key` closed or failed; `seenAt` is its last sign of life. */
  protected abstract onGone(ws: WebSocket, key: string, alias: string | null, code: number, seenAt: number): Promise<void>;
  protected abstract onAlarm(key: string, state: S): Promise<void>;
  /** What names a unit in its log lines. */
  protected abstract ids(key: string): LogFields;

  /** A unit just read from storage, before anything else runs. */
  protected loaded(_key: string, state: S): S {
    return state;
  }

  async fetch(request: Request): Promise<Response> {
    meter(`${this.o.kind}.event`);
    const key = this.unitOf(request);
    const state = key === null ? undefined : this.units.get(key);
    if (key === null || !state) return errorResponse(404, "session_not_found", "No such chat or wait.");
    if (state.kind === "ended") return errorResponse(410, "session_ended", "This chat or wait has ended; start a new match.");
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [key]);
    attach(server, { unit: key, alias: null, connectedAt: Date.now(), network: request.headers.get(NETWORK_HEADER) ?? "" });
    const unidentified = this.ctx.getWebSockets(key).filter((ws) => attachmentOf(ws).alias === null);
    for (const ws of unidentified.slice(0, -MAX_UNIDENTIFIED)) close(ws, CLOSE.unauthorized, "identify with a hello frame first");
    return new Response(null, { status: 101, webSocket: client });
  }

  /**
   * Every frame the runtime did not answer itself is charged to the sender's budget before it
   * is even parsed: junk wakes the object like a message does, so it is refused like a flood,
   * and a sender that keeps going is cut off.
   */
  async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    meter(`${this.o.kind}.event`);
    // Billed apart from other requests (20 incoming frames count as one).
    meter(`${this.o.kind}.frame`);
    const now = Date.now();
    this.lastFrameAt.set(ws, now);
    const { unit, alias } = attachmentOf(ws);
    const verdict = this.budget(ws, unit, alias, now).take(now);
    if (verdict === "disconnect") {
      log("ratelimit.flood_disconnect", { ...this.ids(unit), participant: alias ?? "unidentified" }, "warn");
      close(ws, CLOSE.flooding, "too many frames");
      return this.gone(ws, CLOSE.flooding);
    }
    if (verdict === "refuse") {
      // Named by its clientId when it was a message, so the sender can mark exactly that one unsent; found without parsing.
      const clientId = typeof data === "string" ? CLIENT_ID.exec(data)?.[1] : undefined;
      return send(ws, { type: "error", code: "rate_limited", message: "You are sending too fast; that frame was not delivered.", ...(clientId ? { clientId } : {}) });
    }
    const read = readFrame(data);
    if ("error" in read) return this.reject(ws, unit, read.error.code, read.error.message);
    if (read.frame.type === "ping") return send(ws, PONG);
    await this.onFrame(ws, unit, read.frame, alias);
  }

  async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    meter(`${this.o.kind}.event`);
    // Complete the closing handshake, or the client sits in CLOSING and sees 1006.
    close(ws, code === 1005 || code === 1006 ? CLOSE.normal : code, reason);
    await this.gone(ws, code);
  }

  async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    meter(`${this.o.kind}.event`);
    log("ws.error", { ...this.ids(attachmentOf(ws).unit), error: String(error) }, "warn");
    await this.gone(ws, 1006);
  }

  /**
   * Alarms run at least once; the rules make every branch safe to repeat. Each unit's deadline
   * is computed afresh (it may depend on sockets' pings, which change without a step), and only
   * the units whose deadline has come are woken.
   */
  async alarm(): Promise<void> {
    meter(`${this.o.kind}.alarm`);
    this.scheduledAlarm = null;
    if (this.units.size === 0) return void (await this.ctx.storage.deleteAll());
    const now = Date.now();
    try {
      for (const key of [...this.units.keys()]) {
        // Read afresh: the units handled before this one awaited, and calls ran meanwhile.
        const state = this.units.get(key);
        if (!state) continue;
        this.track(key, state);
        const at = this.deadlines.get(key);
        if (at === undefined || at > now) continue;
        try {
          await this.onAlarm(key, state);
        } catch (err) {
          // One unit's failure must not hold up the others' deadlines.
          log("effect.failed", { ...this.ids(key), effect: "alarm", error: String(err) }, "warn");
        }
      }
    } finally {
      await this.rearm();
    }
  }

  /** Adopt a unit's new state, save it and the next alarm before anything leaves the object, then carry out the effects. */
  protected async apply<R>(key: string, step: AnyStep<S, E, R>, current?: WebSocket): Promise<R> {
    const before = this.units.get(key);
    this.units.set(key, step.state);
    if (step.state.kind !== "ended" && step.state !== before && step.persist !== false) {
      meterStorage("rows.written", `${this.o.kind}.${step.state.kind}`);
      await this.ctx.storage.put(UNIT_KEY + key, step.state);
    }
    this.track(key, step.state);
    // A step not saved (a chat message), or any step where alarms come early, leaves a sooner alarm: it comes early and recomputes.
    await this.rearm(step.persist === false || this.o.alarmsComeEarly);
    // One failing effect must not skip the others (a report must still close the chat): each
    // runs, failures are logged, and the first is rethrown once all have run.
    let failure: unknown = null;
    for (const effect of step.effects) {
      try {
        await this.perform(key, effect, current);
      } catch (err) {
        log("effect.failed", { ...this.ids(key), effect: (effect as { type?: string }).type, error: String(err) }, "warn");
        failure ??= err;
      }
    }
    if (failure !== null) throw failure;
    return step.reply;
  }

  private track(key: string, state: S): void {
    const at = state.kind === "ended" ? null : this.nextAlarm(key, state);
    if (at === null) this.deadlines.delete(key);
    else this.deadlines.set(key, at);
  }

  /** One alarm, at the earliest deadline of all units; `onlyEarlier`: leave a sooner alarm where it is. */
  private async rearm(onlyEarlier = false): Promise<void> {
    let at: number | null = null;
    for (const d of this.deadlines.values()) if (at === null || d < at) at = d;
    if (at === null || at === this.scheduledAlarm) return;
    if (onlyEarlier && this.scheduledAlarm !== null && this.scheduledAlarm <= at) return;
    this.scheduledAlarm = at;
    meterStorage("alarms.set", this.o.kind);
    await this.ctx.storage.setAlarm(at);
  }

  /** Forgets a unit's stored state: it is over (a room remembers in memory how it ended, until evicted). */
  protected async erase(key: string): Promise<void> {
    this.deadlines.delete(key);
    this.budgets.delete(key);
    if (!this.o.keepsEnded) this.units.delete(key);
    meterStorage("rows.written", `${this.o.kind}.erase`);
    await this.ctx.storage.delete(UNIT_KEY + key);
  }

  /** Forgets everything stored, alarm included: for an object whose only unit is over. */
  protected async eraseAll(): Promise<void> {
    this.deadlines.clear();
    this.scheduledAlarm = null;
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }

  /** The socket said hello as `alias`: from now on it is that participant's. */
  protected adopt(ws: WebSocket, alias: string): void {
    attach(ws, { ...attachmentOf(ws), alias });
  }

  /** Open, identified sockets of a unit: of one alias, or of everyone. */
  protected sockets(key: string, alias: string | "all"): WebSocket[] {
    return this.ctx.getWebSockets(key).filter((ws) => {
      const a = attachmentOf(ws).alias;
      return a !== null && (alias === "all" || a === alias) && ws.readyState === WebSocket.OPEN;
    });
  }

  /** When a socket last showed life: connected, sent a frame, or pinged (answered by the runtime without waking us). */
  protected lastSeen(ws: WebSocket): number {
    const pingedAt = this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0;
    return Math.max(attachmentOf(ws).connectedAt, pingedAt, this.lastFrameAt.get(ws) ?? 0);
  }

  /** The socket is gone (or being closed by us): its close event, when it comes, changes nothing more. */
  protected forgetSocket(ws: WebSocket): void {
    this.departed.add(ws);
    this.lastFrameAt.delete(ws);
    this.budgets.get(attachmentOf(ws).unit)?.delete(ws);
  }

  protected reject(ws: WebSocket, key: string, code: ErrorCode, message: string, clientId?: string): void {
    log("ws.rejected_frame", { ...this.ids(key), code }, "warn");
    send(ws, clientId ? { type: "error", code, message, clientId } : { type: "error", code, message });
  }

  /** An `error` frame, then the socket closed: what a refused hello gets. */
  protected refuse(ws: WebSocket, key: string, code: ErrorCode, message: string, closeCode: number): void {
    this.reject(ws, key, code, message);
    close(ws, closeCode, code);
  }

  /** A hello with a token that is not this unit's: refused, and charged to the sender's network. */
  protected async refuseToken(ws: WebSocket, key: string): Promise<void> {
    this.refuse(ws, key, "invalid_token", "This token does not belong here.", CLOSE.unauthorized);
    const { network } = attachmentOf(ws);
    if (!network) return;
    log("ratelimit.failed_hello", { ...this.ids(key) }, "warn");
    for (let i = 0; i < FAILED_HELLO_COST; i++) await this.env.SOCKETS_PER_IP.limit({ key: network });
  }

  private budget(ws: WebSocket, unit: string, alias: string | null, now: number): FloodGuard {
    let ofUnit = this.budgets.get(unit);
    if (!ofUnit) this.budgets.set(unit, (ofUnit = new Map()));
    let guard = ofUnit.get(alias ?? ws);
    if (!guard) ofUnit.set(alias ?? ws, (guard = new FloodGuard(now)));
    return guard;
  }

  private async gone(ws: WebSocket, code: number): Promise<void> {
    if (this.departed.has(ws)) return;
    const seenAt = this.lastSeen(ws);
    this.forgetSocket(ws);
    const { unit, alias } = attachmentOf(ws);
    if (this.units.has(unit)) await this.onGone(ws, unit, alias, code, seenAt);
  }
}

const CLIENT_ID = /"clientId"\s*:\s*"([A-Za-z0-9_-]{1,64})"/;

/** One client frame, validated; or what is wrong with it, for an `error` frame. */
export function readFrame(data: string | ArrayBuffer): { frame: ParsedClientFrame } | { error: { code: ErrorCode; message: string } } {
  if (typeof data !== "string") return { error: { code: "unsupported_data", message: "Frames must be JSON text." } };
  if (data.length > LIMITS.frameBytes) return { error: { code: "frame_too_large", message: `Frames must be at most ${LIMITS.frameBytes} bytes.` } };
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return { error: { code: "invalid_frame", message: "Frames must be valid JSON." } };
  }
  const parsed = ClientFrame.safeParse(json);
  if (parsed.success) return { frame: parsed.data };
  const issue = parsed.error.issues[0];
  const field = issue.path.length ? `${issue.path.join(".")}: ` : "";
  return { error: { code: "invalid_frame", message: `${field}${issue.message}` } };
}

export function send(ws: WebSocket, frame: ServerFrame | string): void {
  try {
    ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  } catch {
    // The socket is closing; its close handler deals with presence.
  }
}

export function close(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // already closed
  }
}
