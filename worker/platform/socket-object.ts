/**
 * What the two socket-holding objects (ChatRoom, Lobby) do alike with hibernating WebSockets:
 * accept a socket for one of their *units* (a chat's session, a wait's seat), let it identify
 * itself with a `hello` frame, charge every frame to its sender's budget before reading it,
 * tell a live socket from a vanished one, keep one alarm at the earliest deadline, and carry
 * out effects so that one failing never skips the others. partyserver's `Server` is the
 * model; the subclasses say what a unit is and what its frames mean.
 */
import { DurableObject } from "cloudflare:workers";
import { CLOSE, type ErrorCode, LIMITS, PING, PONG, type ServerFrame } from "@strangers/protocol";
import { ClientFrameSchema, type ParsedClientFrame } from "@strangers/protocol/schemas";
import { errorResponse } from "./errors";
import { FloodGuard } from "./flood-guard";
import { type LogFields, log } from "./log";
import { meter, meterStorage } from "./metering";

/**
 * Kept in the socket itself, so it survives hibernation. `unit` is whose socket it is (a
 * session, a seat); `alias` is null until the socket's `hello`; `network` is the budget key
 * the worker charged the upgrade to ("" if exempt); `keep` is what the object wants back after
 * it was evicted (a lobby keeps the wait there).
 */
export type Attachment = { unit: string; alias: string | null; connectedAt: number; network: string; keep?: unknown };

/** Set by the worker on the upgrade it forwards (replacing anything a client sent). */
export const NETWORK_HEADER = "X-Strangers-Network";
/** A hello with a wrong token costs its network this many socket upgrades: guessing stops after a few tries. */
const FAILED_HELLO_COST = 10;
/** Sockets of one unit that connected but have not said who they are yet; more are not worth holding. */
const MAX_UNIDENTIFIED = 4;
/** The runtime keeps at most this much of an attachment. */
const ATTACHMENT_BYTES = 2048;

/** Attachments read once per socket object: every frame and every broadcast asks, and deserializing is not free. */
const attachments = new WeakMap<WebSocket, Attachment>();

export function attachmentOf(ws: WebSocket): Attachment {
  let a = attachments.get(ws);
  if (!a) attachments.set(ws, (a = ws.deserializeAttachment() as Attachment));
  return a;
}

function attach(ws: WebSocket, a: Attachment): void {
  // What the object keeps in a socket is a convenience: beyond the runtime's limit, it is left out.
  const kept = a.keep !== undefined && JSON.stringify(a).length > ATTACHMENT_BYTES ? { ...a, keep: undefined } : a;
  ws.serializeAttachment(kept);
  attachments.set(ws, kept);
}

/** Whether a socket may be opened for a unit. */
export type Admission = "open" | "unknown" | "ended";

export abstract class SocketObject extends DurableObject<Env> {
  /** Last frame per socket (pings are answered by the runtime, which keeps their time itself). */
  private readonly lastFrameAt = new Map<WebSocket, number>();
  /** Frame budgets by unit: per participant (so a reconnect does not refill it), or per socket before its hello. */
  private readonly budgets = new Map<string, Map<string | WebSocket, FloodGuard>>();
  /** Sockets already handled as gone: a socket we closed ourselves still reports its close event. */
  private readonly departed = new WeakSet<WebSocket>();
  private scheduledAlarm: number | null = null;

  /** `counted` names the wake-up counts (`room.event`, `lobby.alarm`, …) in /api/stats. */
  constructor(
    ctx: DurableObjectState,
    env: Env,
    private readonly counted: "room" | "lobby",
  ) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      this.scheduledAlarm = await ctx.storage.getAlarm();
    });
    // Heartbeats are answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
  }

  /** Which unit a socket request is for (from its URL), or null. */
  protected abstract unitOf(request: Request): string | null;
  protected abstract admits(unit: string): Admission | Promise<Admission>;
  /** A valid frame other than a ping, on a socket of `unit`; `alias` is null until the socket said hello. */
  protected abstract onFrame(
    ws: WebSocket,
    unit: string,
    frame: ParsedClientFrame,
    alias: string | null,
  ): Promise<void>;
  /** A socket of `unit` closed or failed; `seenAt` is its last sign of life. */
  protected abstract onGone(
    ws: WebSocket,
    unit: string,
    alias: string | null,
    code: number,
    seenAt: number,
  ): Promise<void>;
  /** What names a unit in its log lines. */
  protected abstract ids(unit: string): LogFields;

  async fetch(request: Request): Promise<Response> {
    meter(`${this.counted}.event`);
    const unit = this.unitOf(request);
    const admission = unit === null ? "unknown" : await this.admits(unit);
    if (admission === "unknown") return errorResponse(404, "session_not_found", "No such chat or wait.");
    if (admission === "ended")
      return errorResponse(410, "session_ended", "This chat or wait has ended; start a new match.");
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [unit!]);
    attach(server, {
      unit: unit!,
      alias: null,
      connectedAt: Date.now(),
      network: request.headers.get(NETWORK_HEADER) ?? "",
    });
    const unidentified = this.ctx.getWebSockets(unit!).filter((ws) => attachmentOf(ws).alias === null);
    for (const ws of unidentified.slice(0, -MAX_UNIDENTIFIED))
      close(ws, CLOSE.unauthorized, "identify with a hello frame first");
    return new Response(null, { status: 101, webSocket: client });
  }

  /**
   * Every frame the runtime did not answer itself is charged to the sender's budget before it
   * is even parsed: junk wakes the object like a message does, so it is refused like a flood,
   * and a sender that keeps going is cut off.
   */
  async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    meter(`${this.counted}.event`);
    // Billed apart from other requests (20 incoming frames count as one).
    meter(`${this.counted}.frame`);
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
      return send(ws, {
        type: "error",
        code: "rate_limited",
        message: "You are sending too fast; that frame was not delivered.",
        ...(clientId ? { clientId } : {}),
      });
    }
    const read = readFrame(data);
    if ("error" in read) return this.reject(ws, unit, read.error.code, read.error.message, read.error.clientId);
    if (read.frame.type === "ping") return send(ws, PONG);
    await this.onFrame(ws, unit, read.frame, alias);
  }

  async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    meter(`${this.counted}.event`);
    // Complete the closing handshake, or the client sits in CLOSING and sees 1006.
    close(ws, code === 1005 || code === 1006 ? CLOSE.normal : code, reason);
    await this.gone(ws, code);
  }

  async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    meter(`${this.counted}.event`);
    log("ws.error", { ...this.ids(attachmentOf(ws).unit), error: String(error) }, "warn");
    await this.gone(ws, 1006);
  }

  /**
   * The object's one alarm, at `at` (null: none). `onlyEarlier` leaves a sooner alarm where it
   * is: it comes early and the object recomputes, which saves setting an alarm on most steps of
   * a busy object (a quiet one sleeps until a real deadline).
   */
  protected async schedule(at: number | null, onlyEarlier: boolean): Promise<void> {
    if (at === this.scheduledAlarm) return;
    if (at === null) {
      if (onlyEarlier) return;
      this.scheduledAlarm = null;
      return this.ctx.storage.deleteAlarm();
    }
    if (onlyEarlier && this.scheduledAlarm !== null && this.scheduledAlarm <= at) return;
    this.scheduledAlarm = at;
    meterStorage("alarms.set", this.counted);
    await this.ctx.storage.setAlarm(at);
  }

  /** The alarm is running: it is no longer scheduled. */
  protected alarmFired(): void {
    meter(`${this.counted}.alarm`);
    this.scheduledAlarm = null;
  }

  /**
   * Carries out effects in order. One failing must not skip the others (a report must still
   * close the chat): each runs, failures are logged, and the first is rethrown once all ran.
   */
  protected async performAll<E extends { type: string }>(
    effects: E[],
    perform: (e: E) => unknown,
    ids: LogFields,
  ): Promise<void> {
    let failure: unknown = null;
    for (const effect of effects) {
      try {
        await perform(effect);
      } catch (err) {
        log("effect.failed", { ...ids, effect: effect.type, error: String(err) }, "warn");
        failure ??= err;
      }
    }
    if (failure !== null) throw failure;
  }

  /** The socket said hello as `alias` (keeping `keep` with it): from now on it is that participant's. */
  protected adopt(ws: WebSocket, alias: string, keep?: unknown): void {
    attach(ws, { ...attachmentOf(ws), alias, ...(keep === undefined ? {} : { keep }) });
  }

  /** Open, identified sockets of a unit: of one alias, or of everyone. */
  protected sockets(unit: string, alias: string | "all"): WebSocket[] {
    return this.ctx.getWebSockets(unit).filter((ws) => {
      const a = attachmentOf(ws).alias;
      return a !== null && (alias === "all" || a === alias) && ws.readyState === WebSocket.OPEN;
    });
  }

  /** When a socket last showed life: connected, sent a frame, or pinged (answered by the runtime without waking us). */
  protected lastSeen(ws: WebSocket): number {
    const pingedAt = this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0;
    return Math.max(attachmentOf(ws).connectedAt, pingedAt, this.lastFrameAt.get(ws) ?? 0);
  }

  /**
   * Sockets that connected but never said hello within `afterMs` are closed: they are not going
   * to (their pings do not count). The answer is when the next of the others is due, or null.
   */
  protected closeUnidentified(now: number, afterMs: number): number | null {
    let next: number | null = null;
    for (const ws of this.ctx.getWebSockets()) {
      const { alias, connectedAt } = attachmentOf(ws);
      if (alias !== null) continue;
      if (now - connectedAt > afterMs) close(ws, CLOSE.unauthorized, "no hello");
      else next = Math.min(next ?? Infinity, connectedAt + afterMs + 1);
    }
    return next;
  }

  /** The socket is gone (or being closed by us): its close event, when it comes, changes nothing more. */
  protected forgetSocket(ws: WebSocket): void {
    this.departed.add(ws);
    this.lastFrameAt.delete(ws);
    this.budgets.get(attachmentOf(ws).unit)?.delete(ws);
  }

  /** Frame budgets of a unit that is over. */
  protected forgetUnit(unit: string): void {
    this.budgets.delete(unit);
  }

  protected reject(ws: WebSocket, unit: string, code: ErrorCode, message: string, clientId?: string): void {
    log("ws.rejected_frame", { ...this.ids(unit), code }, "warn");
    send(ws, clientId ? { type: "error", code, message, clientId } : { type: "error", code, message });
  }

  /** An `error` frame, then the socket closed: what a refused hello gets. */
  protected refuse(ws: WebSocket, unit: string, code: ErrorCode, message: string, closeCode: number): void {
    this.reject(ws, unit, code, message);
    close(ws, closeCode, code);
  }

  /** A hello with a token that is not this unit's: refused, and charged to the sender's network. */
  protected async refuseToken(ws: WebSocket, unit: string): Promise<void> {
    this.refuse(ws, unit, "invalid_token", "This token does not belong here.", CLOSE.unauthorized);
    const { network } = attachmentOf(ws);
    if (!network) return;
    log("ratelimit.failed_hello", { ...this.ids(unit) }, "warn");
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
    await this.onGone(ws, unit, alias, code, seenAt);
  }
}

const CLIENT_ID = /"clientId"\s*:\s*"([A-Za-z0-9_-]{1,64})"/;

/** One client frame, validated; or what is wrong with it, for an `error` frame (naming the message's clientId when it carried a valid one). */
export function readFrame(
  data: string | ArrayBuffer,
): { frame: ParsedClientFrame } | { error: { code: ErrorCode; message: string; clientId?: string } } {
  if (typeof data !== "string") return { error: { code: "unsupported_data", message: "Frames must be JSON text." } };
  if (data.length > LIMITS.frameBytes)
    return {
      error: {
        code: "frame_too_large",
        message: `Frames must be at most ${LIMITS.frameBytes} bytes.`,
        ...clientIdIn(data),
      },
    };
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return { error: { code: "invalid_frame", message: "Frames must be valid JSON." } };
  }
  const parsed = ClientFrameSchema.safeParse(json);
  if (parsed.success) return { frame: parsed.data };
  const issue = parsed.error.issues[0];
  const field = issue.path.length ? `${issue.path.join(".")}: ` : "";
  const clientId = (json as { clientId?: unknown } | null)?.clientId;
  return {
    error: {
      code: "invalid_frame",
      message: `${field}${issue.message}`,
      ...(typeof clientId === "string" && /^[A-Za-z0-9_-]{1,64}$/.test(clientId) ? { clientId } : {}),
    },
  };
}

const clientIdIn = (data: string): { clientId?: string } => {
  const id = CLIENT_ID.exec(data)?.[1];
  return id ? { clientId: id } : {};
};

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
