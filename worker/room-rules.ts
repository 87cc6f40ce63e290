/**
 * The rules of a chat room, as pure functions: `(state, event, now, live) → { state, effects }`.
 * A room is one pairing: it is opened by the waiter's seat when a stranger claims it, becomes
 * a chat once the claimer connects and the seat confirms, and ends for good on leave, report,
 * silence or a no-show. `live` says, per participant, when its open sockets last showed life
 * (null: none open); the runtime answers pings without waking the room, so liveness is read
 * when something happens anyway, never polled.
 *
 *   pending ──claimer connects, seat confirms──▶ chatting ──leave / report / idle / no-show──▶ ended
 *      └──────────── nobody connects in time, or the seat went back to waiting ──────────────▶ ended
 *
 * ChatRoom (chat-room.ts) loads the state, applies these functions, saves, and carries out
 * the effects. Nothing here reads a clock, storage or the network.
 */
import type { LogFields } from "./log";
import type { Verdict } from "./moderation";
import type { ChatMessage, CloseReason, Partner, Relaxed, ReportReason, ServerFrame } from "./protocol";
import { CLOSE, PROTOCOL_VERSION } from "./protocol";
import type { StatsEvent } from "./stats";

/** One side of a pairing, as the seat that made it hands it over. */
export type Side = { alias: string; name: string; token: string; device: string };

export type RoomSetup = {
  sessionId: string;
  /** The waiter's seat, which must confirm the pairing when the claimer connects. */
  seatId: string;
  queueKey: string;
  waitedMs: number;
  relaxed: Relaxed[];
  // Optional: rooms opened before interests and moderation existed have none of these.
  claimerQueueKey?: string;
  claimerWaitedMs?: number;
  /** The languages both chose: the moderation filter applies their word lists. */
  languages?: string[];
  shared?: string[];
  owner: Side;
  claimer: Side;
};

export type RoomRules = { connectWindowMs: number; roomIdleMs: number; heartbeatTimeoutMs: number; emptyRoomMs: number };

type Participant = Side & { joined: boolean };

export type RoomState =
  | { kind: "pending"; setup: RoomSetup; createdAt: number; confirming: boolean }
  | {
      kind: "chatting";
      setup: RoomSetup;
      /** [owner, claimer] */
      participants: [Participant, Participant];
      confirmedAt: number;
      lastActivity: number;
      /** Since when nobody has had a socket open. */
      emptySince: number | null;
    }
  | { kind: "ended"; sessionId: string; reason: CloseReason };

/** Per participant alias: the newest sign of life of its open sockets, or null if none is open. */
export type Live = Record<string, number | null>;

type Welcome = Extract<ServerFrame, { type: "welcome" }>;

export type RoomEffect =
  | { type: "send"; to: string | "all"; frame: ServerFrame }
  /** To the socket being admitted; the room adds the history. */
  | { type: "welcome"; frame: Omit<Welcome, "history"> }
  /** Close this participant's other sockets: a reconnect took over. */
  | { type: "retire"; alias: string }
  /** Close every socket of this participant (it stopped answering). */
  | { type: "drop"; alias: string; code: number; reason: string }
  | { type: "close_all"; code: number; reason: string }
  /** Keep the message in the history and send it to both sides (the sender's copy is its acknowledgement). */
  | { type: "store"; message: ChatMessage }
  /** Ask the seat whether this pairing still stands; the answer comes back as `confirmed`. */
  | { type: "confirm"; seatId: string; sessionId: string }
  /** Remember the pairing on both devices, so Next never hands the same stranger back (and a ban can end this chat). */
  | { type: "met"; devices: [string, string]; sessionId: string }
  | { type: "report"; reported: string; by: string; reason: ReportReason }
  | { type: "log"; event: string; fields: LogFields }
  | { type: "count"; event: StatsEvent }
  /** Forget everything stored; `cleaned` is logged as `room.cleaned`, with the message count only the room knows. */
  | { type: "erase"; cleaned?: LogFields };

/**
 * `persist: false` when the state need not be written: a message's row already records the
 * activity (a room reloads `lastActivity` from its newest message).
 */
export type Step<R = undefined> = { state: RoomState; effects: RoomEffect[]; reply: R; persist?: false };

export type Hello = { ok: true; alias: string } | { ok: false; code: "invalid_token" | "session_ended" };
export type Refusal = { code: "not_paired" | "message_filtered" | "session_ended"; message: string } | null;

const step = <R>(state: RoomState, effects: RoomEffect[], reply: R): Step<R> => ({ state, effects, reply });
const NOT_PAIRED: Refusal = { code: "not_paired", message: "Wait for the stranger to join before sending messages." };
const ENDED: Refusal = { code: "session_ended", message: "This chat has ended; the message was not sent." };
const FILTERED: Refusal = { code: "message_filtered", message: "This message was not sent: it looks like it breaks the community guidelines." };

export function open(setup: RoomSetup, now: number): RoomState {
  return { kind: "pending", setup, createdAt: now, confirming: false };
}

export const sessionIdOf = (s: RoomState): string => (s.kind === "ended" ? s.sessionId : s.setup.sessionId);

export function sideByToken(s: RoomState, token: string): Side | undefined {
  if (s.kind === "ended") return undefined;
  const sides = s.kind === "chatting" ? s.participants : [s.setup.owner, s.setup.claimer];
  return sides.find((p) => p.token === token);
}

/** Whether this token's participant has been in the chat before: its hello is a reconnect. */
export function rejoining(s: RoomState, token: string): boolean {
  return s.kind === "chatting" && s.participants.some((p) => p.token === token && p.joined);
}

/** A socket's first frame names its participant. The claimer's first connection is what makes the pairing real. */
export function hello(s: RoomState, token: string, now: number, live: Live): Step<Hello> {
  if (s.kind === "ended") return step(s, [], { ok: false, code: "session_ended" });
  const side = sideByToken(s, token);
  // The owner hears of the pairing only once the claimer is here, so before that its token is unknown too.
  if (!side || (s.kind === "pending" && side !== s.setup.claimer)) return step(s, [], { ok: false, code: "invalid_token" });
  if (s.kind === "pending") {
    if (s.confirming) return step(s, [], { ok: true, alias: side.alias });
    // Not saved: a confirmation in flight does not survive a restart, and the next hello asks again.
    const confirming = { ...s, confirming: true };
    return { state: confirming, effects: [{ type: "confirm", seatId: s.setup.seatId, sessionId: s.setup.sessionId }], reply: { ok: true, alias: side.alias }, persist: false };
  }
  return admit(s, side.alias, now, live);
}

/** The seat's answer to `confirm`: the pairing stands (the claimer is admitted), or the seat moved on. */
export function confirmed(s: RoomState, ok: boolean, now: number, live: Live): Step {
  if (s.kind !== "pending") return step(s, [], undefined);
  const { setup } = s;
  if (!ok) return end(s, "partner_missing", now, []);
  const chat: RoomState = {
    kind: "chatting",
    setup,
    participants: [
      { ...setup.owner, joined: false },
      { ...setup.claimer, joined: false },
    ],
    confirmedAt: now,
    lastActivity: now,
    emptySince: null,
  };
  const admitted = admit(chat, setup.claimer.alias, now, live);
  admitted.effects.push(
    { type: "met", devices: [setup.owner.device, setup.claimer.device], sessionId: setup.sessionId },
    { type: "log", event: "match.paired", fields: { sessionId: setup.sessionId, queue: setup.queueKey, waitedMs: setup.waitedMs, relaxed: setup.relaxed.join(",") } },
    {
      type: "count",
      event: {
        kind: "paired",
        waits: [
          { queue: setup.queueKey, ms: setup.waitedMs },
          ...(setup.claimerQueueKey !== undefined && setup.claimerWaitedMs !== undefined ? [{ queue: setup.claimerQueueKey, ms: setup.claimerWaitedMs }] : []),
        ],
      },
    },
  );
  return { ...admitted, reply: undefined };
}

function admit(s: Extract<RoomState, { kind: "chatting" }>, alias: string, now: number, live: Live): Step<Hello> {
  const [me, partner] = ordered(s, alias);
  const firstTime = !me.joined;
  const joined: Participant = { ...me, joined: true };
  const participants: [Participant, Participant] = s.participants[0].alias === alias ? [joined, partner] : [partner, joined];
  const effects: RoomEffect[] = [
    { type: "retire", alias },
    {
      type: "welcome",
      frame: {
        type: "welcome",
        v: PROTOCOL_VERSION,
        sessionId: s.setup.sessionId,
        you: { id: alias, name: me.name },
        partner: view(partner, live),
        relaxed: s.setup.relaxed,
        shared: s.setup.shared ?? [],
      },
    },
  ];
  if (firstTime) effects.push({ type: "send", to: partner.alias, frame: { type: "partner_joined", partner: view(joined, { ...live, [alias]: now }) } });
  else if (live[alias] == null) effects.push({ type: "send", to: partner.alias, frame: { type: "partner_online", partnerId: alias } });
  return step({ ...s, participants, lastActivity: now, emptySince: null }, effects, { ok: true, alias });
}

/**
 * A chat message, with the moderation filter's verdict on it: relayed as written, relayed with
 * what matched hidden, or refused (the sender is told, the partner sees nothing). When the room
 * looked at its sockets' liveness for this message (`live`; null when it did not: it looks now
 * and then, not on every message), a socket that stopped answering is dropped on the way.
 */
export function message(s: RoomState, alias: string, m: Omit<ChatMessage, "from" | "at">, verdict: Verdict, now: number, live: Live | null, r: RoomRules): Step<Refusal> {
  if (s.kind !== "chatting") return step(s, [], s.kind === "ended" ? ENDED : NOT_PAIRED);
  if (verdict.action === "refuse") return { state: s, effects: filtered(s, alias, verdict), reply: FILTERED, persist: false };
  const stored: ChatMessage = verdict.action === "mask" ? { ...m, text: verdict.text, masked: true, from: alias, at: now } : { ...m, from: alias, at: now };
  const effects: RoomEffect[] = [{ type: "store", message: stored }, ...(live ? vanished(s, now, live, r) : [])];
  if (verdict.action === "mask") effects.push(...filtered(s, alias, verdict));
  return { state: { ...s, lastActivity: now }, effects, reply: null, persist: false };
}

/** What the filter found is counted and logged, never the text. */
function filtered(s: Extract<RoomState, { kind: "chatting" }>, alias: string, verdict: Exclude<Verdict, { action: "pass" }>): RoomEffect[] {
  const categories = verdict.categories.join(",");
  return [
    { type: "log", event: "chat.filtered", fields: { sessionId: s.setup.sessionId, participant: alias, action: verdict.action, categories } },
    { type: "count", event: { kind: "filtered", categories: verdict.categories } },
  ];
}

export function typing(s: RoomState, alias: string, isTyping: boolean): Step {
  if (s.kind !== "chatting") return step(s, [], undefined);
  const [, partner] = ordered(s, alias);
  return step(s, [{ type: "send", to: partner.alias, frame: { type: "typing", from: alias, isTyping } }], undefined);
}

/** Next or Stop: the chat ends for both. */
export function leave(s: RoomState, alias: string, now: number): Step {
  if (s.kind === "ended") return step(s, [], undefined);
  const effects: RoomEffect[] = [{ type: "log", event: "chat.left", fields: { sessionId: s.setup.sessionId, participant: alias } }];
  if (s.kind === "chatting") effects.push({ type: "send", to: ordered(s, alias)[1].alias, frame: { type: "partner_left", partnerId: alias } });
  return end(s, "left", now, effects);
}

/** A report ends the chat at once (before anything else is awaited), and is filed against the partner's device. */
export function report(s: RoomState, alias: string, reason: ReportReason, now: number): Step<Refusal> {
  if (s.kind !== "chatting") return step(s, [], { code: "not_paired", message: "There is nobody to report." });
  const [me, partner] = ordered(s, alias);
  const ended = end(s, "reported", now, [{ type: "log", event: "chat.reported", fields: { sessionId: s.setup.sessionId, participant: alias, reason } }]);
  // Filed last: the chat is closed and forgotten whatever the device records answer.
  ended.effects.push({ type: "report", reported: partner.device, by: me.device, reason });
  return { ...ended, reply: null };
}

/** A participant's device was banned (by reports from other chats): this chat ends too. */
export function evict(s: RoomState, device: string, now: number): Step {
  if (s.kind === "ended") return step(s, [], undefined);
  const sides = s.kind === "chatting" ? s.participants : [s.setup.owner, s.setup.claimer];
  return sides.some((p) => p.device === device) ? end(s, "banned", now, []) : step(s, [], undefined);
}

/** A socket closed or failed; `live` no longer counts it. */
export function socketGone(s: RoomState, alias: string, now: number, live: Live): Step {
  if (s.kind !== "chatting" || live[alias] != null) return step(s, [], undefined);
  const [, partner] = ordered(s, alias);
  const effects: RoomEffect[] = [{ type: "send", to: partner.alias, frame: { type: "partner_offline", partnerId: alias } }];
  const empty = live[partner.alias] == null;
  return step({ ...s, emptySince: empty ? (s.emptySince ?? now) : null }, effects, undefined);
}

/** Alarms run at least once, at `nextAlarm` or later: every branch is safe to repeat. */
export function alarm(s: RoomState, now: number, live: Live, r: RoomRules): Step {
  if (s.kind === "ended") return step(s, [{ type: "erase" }], undefined);
  if (s.kind === "pending") return now >= s.createdAt + r.connectWindowMs ? end(s, "partner_missing", now, []) : step(s, [], undefined);
  const effects = vanished(s, now, live, r);
  const stillLive = { ...live };
  for (const e of effects) if (e.type === "drop") stillLive[e.alias] = null;
  const nobody = s.participants.every((p) => stillLive[p.alias] == null);
  const chat = { ...s, emptySince: nobody ? (s.emptySince ?? now) : null };
  const reason = dueEnd(chat, now, r);
  return reason ? end(chat, reason, now, effects) : step(chat, effects, undefined);
}

/** The room's next real deadline: a no-show, silence, or an empty room. Never a periodic check. */
export function nextAlarm(s: RoomState, r: RoomRules): number | null {
  if (s.kind === "ended") return null;
  if (s.kind === "pending") return s.createdAt + r.connectWindowMs;
  const deadlines = [s.lastActivity + r.roomIdleMs];
  if (s.participants.some((p) => !p.joined)) deadlines.push(s.confirmedAt + r.connectWindowMs);
  if (s.emptySince !== null) deadlines.push(s.emptySince + r.emptyRoomMs);
  return Math.min(...deadlines);
}

function dueEnd(s: Extract<RoomState, { kind: "chatting" }>, now: number, r: RoomRules): CloseReason | null {
  if (s.participants.some((p) => !p.joined) && now >= s.confirmedAt + r.connectWindowMs) return "partner_missing";
  if (now >= s.lastActivity + r.roomIdleMs) return "idle";
  if (s.emptySince !== null && now >= s.emptySince + r.emptyRoomMs) return "idle";
  return null;
}

/** Participants whose open sockets stopped answering pings: dropped, and their partner told. */
function vanished(s: Extract<RoomState, { kind: "chatting" }>, now: number, live: Live, r: RoomRules): RoomEffect[] {
  const effects: RoomEffect[] = [];
  for (const p of s.participants) {
    const seen = live[p.alias];
    if (seen == null || now - seen <= r.heartbeatTimeoutMs) continue;
    const partner = s.participants.find((o) => o !== p)!;
    effects.push(
      { type: "drop", alias: p.alias, code: CLOSE.stale, reason: "heartbeat timeout" },
      { type: "send", to: partner.alias, frame: { type: "partner_offline", partnerId: p.alias } },
    );
  }
  return effects;
}

function end(s: Exclude<RoomState, { kind: "ended" }>, reason: CloseReason, now: number, first: RoomEffect[]): Step {
  const effects: RoomEffect[] = [
    ...first,
    { type: "send", to: "all", frame: { type: "closed", reason } },
    { type: "close_all", code: CLOSE.ended, reason: `chat ended: ${reason}` },
  ];
  if (s.kind === "chatting") effects.push({ type: "count", event: { kind: "room_closed" } });
  const ageMs = now - (s.kind === "chatting" ? s.confirmedAt : s.createdAt);
  effects.push({ type: "erase", cleaned: { sessionId: s.setup.sessionId, reason, status: s.kind, ageMs } });
  return step({ kind: "ended", sessionId: s.setup.sessionId, reason }, effects, undefined);
}

function ordered(s: Extract<RoomState, { kind: "chatting" }>, alias: string): [Participant, Participant] {
  const [a, b] = s.participants;
  return a.alias === alias ? [a, b] : [b, a];
}

function view(p: Participant, live: Live): Partner {
  return { id: p.alias, name: p.name, online: live[p.alias] != null };
}

