/**
 * ChatRoom: one Durable Object per pairing, named by its sessionId. It relays the chat over
 * hibernating WebSockets and keeps the last messages in SQLite. Its rules live in
 * rules.ts; this object loads its state once, applies the rules, saves the state and the
 * next alarm before anything leaves the object, and carries out what they decide. No periodic
 * alarm: pings are answered by the runtime, so a quiet chat sleeps until someone speaks or a
 * real deadline comes.
 */

import { type ChatMessage, CLOSE, type ServerFrame } from "@strangers/protocol";
import type { ParsedClientFrame } from "@strangers/protocol/schemas";
import { nanoid } from "nanoid";
import { type MessageFilter, PASS, type Verdict } from "../moderation/filter";
import { filterFor } from "../moderation/setup";
import { messageLogSampleRate, timings } from "../platform/config";
import { rateLimited } from "../platform/errors";
import { log } from "../platform/log";
import { meterStorage } from "../platform/metering";
import { type Admission, attachmentOf, close, SocketObject, send } from "../platform/socket-object";
import { deviceStub, lobbyStub } from "../platform/stubs";
import { count } from "../stats/stats";
import { History } from "./history";
import * as rules from "./rules";
import {
  type Live,
  type RoomEffect,
  type RoomRules,
  type RoomSetup,
  type RoomState,
  readStored,
  type Step,
  sessionIdOf,
} from "./rules";

/** How often per heartbeat timeout a message reads the sockets' liveness. */
const LIVENESS_READS_PER_TIMEOUT = 6;
/**
 * The lobby opens a room without making anyone wait for it, so a participant's connection may
 * arrive first: it waits this long for the room to open before it is refused.
 */
const OPEN_GRACE_MS = 2_000;
/** Closes that say nothing went wrong: normal, going away, no code, replaced, ended, matched. */
const ORDINARY_CLOSES = new Set([1000, 1001, 1005, CLOSE.replaced, CLOSE.ended, CLOSE.matched]);
/** Where the room's state is stored (the name older rooms used too). */
const STATE_KEY = "unit:";

type MessageFrame = Extract<ParsedClientFrame, { type: "message" }>;

export class ChatRoom extends SocketObject {
  private readonly rules: RoomRules;
  private readonly history: History;
  private readonly messageLogRate: number;
  private readonly filter: MessageFilter;
  /** The pairing, once opened; an ended room remembers how it ended until it is evicted. */
  private state: RoomState | null = null;
  /** Connections that arrived before the room was opened wait on this. */
  private readonly opened = resolvable();
  private readonly startedAt = Date.now();
  /** When a message last read the sockets' liveness (liveNowAndThen). */
  private livenessReadAt = 0;
  /** The message being relayed: each waits for the one before, so a slow verdict never lets a later message overtake. */
  private messageTurn: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, "room");
    const t = timings(env);
    this.rules = {
      connectWindowMs: t.connectWindowMs,
      roomIdleMs: t.roomIdleMs,
      heartbeatTimeoutMs: t.heartbeatTimeoutMs,
      emptyRoomMs: t.queueTtlMs,
    };
    this.history = new History(ctx.storage.sql);
    this.messageLogRate = messageLogSampleRate(env);
    this.filter = filterFor(env);
    ctx.blockConcurrencyWhile(async () => {
      const [stored] = (await ctx.storage.list<RoomState>({ prefix: STATE_KEY, limit: 1 })).values();
      // The last activity saved may be older than the newest message: the idle alarm then comes
      // early, reads the newest message (alarm) and moves on. Waking costs no query.
      const identified = new Set(ctx.getWebSockets().flatMap((ws) => attachmentOf(ws).alias ?? []));
      this.state = stored ? rules.withSockets(readStored(stored), identified) : null;
    });
  }

  private get sessionId(): string {
    return sessionIdOf(this.state!);
  }

  // ------------------------------------------------------------ RPC

  /** From the lobby that paired the two: the room exists from now on. Asked twice (a retry), the same. */
  async open(setup: RoomSetup): Promise<void> {
    if (this.state) return;
    await this.apply({ state: rules.open(setup, Date.now()), effects: [], reply: undefined });
    this.opened.resolve();
  }

  /** From a device record: that device was banned, so its chat ends. */
  async evict(device: string): Promise<void> {
    if (this.state) await this.apply(rules.evict(this.state, device, Date.now()));
  }

  // ------------------------------------------------------------ what happens

  protected unitOf(request: Request): string | null {
    return new URL(request.url).searchParams.get("sessionId");
  }

  protected async admits(): Promise<Admission> {
    // Only a room just started by this very connection can still be opened: an older one without a pairing has none.
    const grace = this.startedAt + OPEN_GRACE_MS - Date.now();
    if (!this.state && grace > 0)
      await Promise.race([this.opened.promise, new Promise((resolve) => setTimeout(resolve, grace))]);
    if (!this.state) return "unknown";
    return this.state.kind === "ended" ? "ended" : "open";
  }

  protected async onFrame(ws: WebSocket, key: string, frame: ParsedClientFrame, alias: string | null): Promise<void> {
    if (alias === null) return this.identify(ws, key, frame.type === "hello" ? frame.token : null);
    if (frame.type === "message") return this.onMessage(ws, key, frame, alias);
    if (frame.type === "hello" || !this.state) return;
    const now = Date.now();
    switch (frame.type) {
      case "typing":
        return this.apply(rules.typing(this.state, alias, frame.isTyping));
      case "leave":
        return this.apply(rules.leave(this.state, alias, now));
      case "report": {
        const refused = await this.apply(rules.report(this.state, alias, frame.reason, now));
        if (refused) this.reject(ws, key, refused.code, refused.message);
        return;
      }
    }
  }

  /**
   * Every message is answered: its echo (stored and relayed), or an error frame naming it.
   * Judged at once (a classifier may take a while, and the next message need not wait for this
   * one's verdict), relayed in the order sent.
   */
  private onMessage(ws: WebSocket, key: string, frame: MessageFrame, alias: string): Promise<void> {
    const verdict =
      this.state?.kind === "chatting"
        ? this.moderate(frame.text, this.state.setup.languages, key)
        : Promise.resolve(PASS);
    const turn = this.messageTurn
      .then(async () => this.relay(ws, key, frame, alias, await verdict))
      .catch((err: unknown) => {
        log("chat.message_failed", { sessionId: key, participant: alias, error: String(err) }, "warn");
        this.reject(ws, key, "internal_error", "That message could not be sent; try again.", frame.clientId);
      });
    this.messageTurn = turn;
    return turn;
  }

  /** The first frame: whose socket is this? */
  private async identify(ws: WebSocket, key: string, token: string | null): Promise<void> {
    if (!token)
      return this.refuse(
        ws,
        key,
        "invalid_frame",
        'The first frame must be {"type":"hello","token":…}.',
        CLOSE.unauthorized,
      );
    if (!this.state)
      return this.refuse(ws, key, "session_ended", "This chat has ended; start a new match.", CLOSE.ended);
    const side = rules.sideByToken(this.state, token);
    // A client reconnecting in a loop would keep the room busy replacing sockets: cool it down (a first join is never a loop).
    if (
      side &&
      rules.rejoining(this.state, token) &&
      !(await this.env.CONNECT_PER_DEVICE.limit({ key: side.device })).success
    ) {
      log("ratelimit.hit", { limiter: "connect", ...this.ids(key) }, "warn");
      return this.refuse(ws, key, "rate_limited", rateLimited("connections").message, CLOSE.flooding);
    }
    const step = rules.hello(this.state, token, Date.now(), this.live());
    if (!step.reply.ok) {
      if (step.reply.code === "invalid_token") return this.refuseToken(ws, key);
      return this.refuse(ws, key, "session_ended", "This chat has ended; start a new match.", CLOSE.ended);
    }
    this.adopt(ws, step.reply.alias);
    await this.apply(step, ws);
  }

  protected async onGone(_ws: WebSocket, key: string, alias: string | null, code: number): Promise<void> {
    if (!this.state || alias === null) return;
    // Sockets come and go all the time (a line each would be most of the log, and billed): only the ones that broke are worth one.
    if (!ORDINARY_CLOSES.has(code)) log("ws.disconnected", { ...this.ids(key), participant: alias, code });
    await this.apply(rules.socketGone(this.state, alias, Date.now(), this.live()));
  }

  async alarm(): Promise<void> {
    this.alarmFired();
    if (!this.state) return void (await this.ctx.storage.deleteAll());
    const now = Date.now();
    const loaded = this.state;
    // A message is saved as its row only, so after a restart the newest row is the room's last activity.
    const state =
      loaded.kind === "chatting"
        ? { ...loaded, lastActivity: Math.max(loaded.lastActivity, this.history.lastAt()) }
        : loaded;
    this.closeUnidentified(now, this.rules.heartbeatTimeoutMs);
    await this.apply(rules.alarm(state, now, this.live(), this.rules));
  }

  protected ids(key: string) {
    return { sessionId: key };
  }

  // ------------------------------------------------------------ carrying out the rules

  /**
   * Adopt the new state, save it and the next alarm before anything leaves the object, then
   * carry out the effects. A message's step is not saved (its row records the activity), and
   * leaves a sooner alarm where it is: it comes early and recomputes.
   */
  private async apply<R>(step: Step<R>, current?: WebSocket): Promise<R> {
    const before = this.state;
    this.state = step.state;
    const key = sessionIdOf(step.state);
    if (step.state.kind !== "ended" && step.state !== before && step.persist !== false) {
      meterStorage("rows.written", "room.state");
      await this.ctx.storage.put(STATE_KEY + key, step.state);
    }
    await this.schedule(rules.nextAlarm(step.state, this.rules), step.persist === false);
    await this.performAll(step.effects, (e) => this.perform(e, key, current), this.ids(key));
    return step.reply;
  }

  private async perform(e: RoomEffect, key: string, current?: WebSocket): Promise<void> {
    switch (e.type) {
      case "send":
        for (const ws of this.sockets(key, e.to)) send(ws, e.frame);
        return;
      case "welcome":
        if (current) send(current, { ...e.frame, history: this.history.messages() });
        return;
      case "retire":
        for (const ws of this.sockets(key, e.alias))
          if (ws !== current) close(ws, CLOSE.replaced, "replaced by a newer connection");
        return;
      case "drop":
        for (const ws of this.sockets(key, e.alias)) {
          close(ws, e.code, e.reason);
          this.forgetSocket(ws);
        }
        return;
      case "close_all":
        for (const ws of this.ctx.getWebSockets()) close(ws, e.code, e.reason);
        return;
      case "store":
        return this.store(key, e.message);
      case "restore":
        return lobbyStub(this.env, e.lobby).restore(e.seatId, e.sessionId);
      case "met": {
        const [a, b] = e.devices;
        return this.onDevices(
          key,
          deviceStub(this.env, a).met(a, b, e.sessionId),
          deviceStub(this.env, b).met(b, a, e.sessionId),
        );
      }
      case "report": {
        const block = deviceStub(this.env, e.by.device).blocked(e.by.device, e.reported.device);
        if (!e.counts) return this.onDevices(key, block);
        return this.onDevices(key, deviceStub(this.env, e.reported.device).reported(e.reported, e.by, e.reason), block);
      }
      case "log":
        return log(e.event, e.fields);
      case "count":
        return count(this.env, e.event, key);
      case "erase":
        if (e.cleaned) log("room.cleaned", { ...e.cleaned, messages: this.history.count() });
        this.forgetUnit(key);
        await this.ctx.storage.deleteAlarm();
        await this.ctx.storage.deleteAll();
        return;
    }
  }

  /** Every message of a chat is stored or relayed only with the filter's verdict (one sent outside a chat is refused unjudged). */
  private async relay(ws: WebSocket, key: string, frame: MessageFrame, alias: string, verdict: Verdict): Promise<void> {
    if (!this.state)
      return this.reject(ws, key, "session_ended", "This chat has ended; the message was not sent.", frame.clientId);
    const m = { id: nanoid(12), text: frame.text, ...(frame.clientId ? { clientId: frame.clientId } : {}) };
    const now = Date.now();
    const refused = await this.apply(
      rules.message(this.state, alias, m, verdict, now, this.liveNowAndThen(now), this.rules),
    );
    if (refused) this.reject(ws, key, refused.code, refused.message, frame.clientId);
  }

  /** A filter that fails lets the message through: the chat goes on. */
  private async moderate(text: string, languages: string[], key: string): Promise<Verdict> {
    try {
      return await this.filter.check(text, languages);
    } catch (err) {
      log("moderation.failed", { sessionId: key, error: String(err) }, "warn");
      return PASS;
    }
  }

  /** Device records are bookkeeping for later matches: the chat goes on whether or not they answer. */
  private async onDevices(sessionId: string, ...updates: Promise<unknown>[]): Promise<void> {
    const failed = (await Promise.allSettled(updates)).find((r) => r.status === "rejected");
    if (failed)
      log("device.update_failed", { sessionId, error: String((failed as PromiseRejectedResult).reason) }, "warn");
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

  /**
   * The partner's copy goes out first, so it is not held for the write (the runtime holds every
   * frame sent after a write until that write is durable). The sender's copy, its
   * acknowledgement, is sent after: an acknowledged message is a stored one.
   */
  private store(key: string, m: ChatMessage): void {
    const frame = JSON.stringify({ type: "message", ...m } satisfies ServerFrame);
    const sockets = this.sockets(key, "all");
    for (const ws of sockets) if (attachmentOf(ws).alias !== m.from) send(ws, frame);
    this.history.append(m);
    for (const ws of sockets) if (attachmentOf(ws).alias === m.from) send(ws, frame);
    if (Math.random() < this.messageLogRate)
      log("chat.message", { sessionId: key, participant: m.from, length: m.text.length });
  }
}

function resolvable(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
