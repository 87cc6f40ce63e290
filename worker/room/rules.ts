/**
 * The rules of a chat room, as pure functions: `(state, event, now, live) → { state, effects }`.
 * A room is one pairing. The lobby that made it opens it (without anyone waiting for that) and
 * tells both people at once; the pairing becomes final when both have joined, which is when it
 * is remembered on both devices and counted. It ends for good on leave, report, silence or a
 * no-show; on a no-show, whoever came from a wait gets that wait back, at its place. `live`
 * says, per participant, when its open sockets last showed life (null: none open); the runtime
 * answers pings without waking the room, so liveness is read when something happens anyway,
 * never polled.
 *
 *   chatting (both told) ──both joined──▶ chatting (final) ──leave / report / idle / ban──▶ ended
 *      └──── one never joins within the connect window: its partner's wait is given back ────▶ ended
 *
 * ChatRoom (chat-room.ts) loads the state, applies these functions, saves, and carries out
 * the effects. Nothing here reads a clock, storage or the network.
 */

import {
  type ChatMessage,
  CLOSE,
  type CloseReason,
  type Partner,
  PROTOCOL_VERSION,
  type Relaxed,
  type ReportReason,
  type ServerFrame,
} from "@strangers/protocol";
import type { Verdict } from "../moderation/filter";
import type { LogFields } from "../platform/log";
import type { StatsEvent } from "../stats/stats";
import type { Reported, Reporter } from "../trust/device-rules";

/** One side of a pairing, as the lobby hands it over. */
export type Side = {
  alias: string;
  name: string;
  token: string;
  /** Fingerprints (never raw ids) of what a report is recorded against: the device, and for a ban also the userId and network. */
  device: string;
  user: string;
  network: string;
  /** Its device passed the human check or has a history when it matched: its reports weigh in full. */
  vouched: boolean;
  /** The queue it looked in, and for how long, for the counts of who's around. */
  queueKey: string;
  waitedMs: number;
  /** Where its wait was (it came from one, rather than asking as a newcomer): a no-show of its partner gives the wait back there. */
  returnTo: { lobby: string; seatId: string } | null;
};

export type RoomSetup = {
  sessionId: string;
  relaxed: Relaxed[];
  shared: string[];
  /** The languages both chose: the moderation filter applies their word lists. */
  languages: string[];
  sides: [Side, Side];
};

export type RoomRules = {
  connectWindowMs: number;
  roomIdleMs: number;
  heartbeatTimeoutMs: number;
  emptyRoomMs: number;
};

/** `spoke`: sent a message (stored or refused by the filter), which lets a report against them count. */
type Participant = Side & { joined: boolean; spoke?: true };

export type RoomState =
  | {
      kind: "chatting";
      setup: RoomSetup;
      participants: [Participant, Participant];
      openedAt: number;
      lastActivity: number;
      /** Since when nobody has had a socket open (null: someone has, or nobody joined yet). */
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
  /** Give a wait back to its lobby, at its place: its partner never came. */
  | { type: "restore"; lobby: string; seatId: string; sessionId: string }
  /** Remember the pairing on both devices, so Next never hands the same stranger back (and a ban can end this chat). */
  | { type: "met"; devices: [string, string]; sessionId: string }
  /** Always a block (they never meet again); against the reported only if `counts`. */
  | { type: "report"; reported: Reported; by: Reporter; reason: ReportReason; counts: boolean }
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
const FILTERED: Refusal = {
  code: "message_filtered",
  message: "This message was not sent: it looks like it breaks the community guidelines.",
};

export function open(setup: RoomSetup, now: number): RoomState {
  const participants = setup.sides.map((side) => ({ ...side, joined: false })) as [Participant, Participant];
  return { kind: "chatting", setup, participants, openedAt: now, lastActivity: now, emptySince: null };
}

export const sessionIdOf = (s: RoomState): string => (s.kind === "ended" ? s.sessionId : s.setup.sessionId);

export function sideByToken(s: RoomState, token: string): Side | undefined {
  return s.kind === "ended" ? undefined : s.participants.find((p) => p.token === token);
}

/** Whether this token's participant has been in the chat before: its hello is a reconnect. */
export function rejoining(s: RoomState, token: string): boolean {
  return s.kind === "chatting" && s.participants.some((p) => p.token === token && p.joined);
}

/**
 * A socket's first frame names its participant. The second one to join makes the pairing
 * final. Only that step is saved: who joined before it, and who is here after it, the room
 * reads from its sockets when it wakes (`withSockets`).
 */
export function hello(s: RoomState, token: string, now: number, live: Live): Step<Hello> {
  if (s.kind === "ended") return step(s, [], { ok: false, code: "session_ended" });
  const side = sideByToken(s, token);
  if (!side) return step(s, [], { ok: false, code: "invalid_token" });
  const admitted = admit(s, side.alias, now, live);
  const [me, partner] = ordered(s, side.alias);
  if (me.joined || !partner.joined) return { ...admitted, persist: false };
  admitted.effects.push(...final(s.setup));
  return admitted;
}

/** A room as it wakes: whoever has an identified socket open has joined, and the room is not empty. */
export function withSockets(s: RoomState, identified: ReadonlySet<string>): RoomState {
  if (s.kind === "ended" || identified.size === 0) return s;
  const participants = s.participants.map((p) => (identified.has(p.alias) ? { ...p, joined: true } : p)) as [
    Participant,
    Participant,
  ];
  return { ...s, participants, emptySince: null };
}

/** The pairing stands: remembered on both devices (no rematch; a ban finds this chat), and logged. Its lobby counted it already. */
function final(setup: RoomSetup): RoomEffect[] {
  const [a, b] = setup.sides;
  return [
    { type: "met", devices: [a.device, b.device], sessionId: setup.sessionId },
    // The one who waited longer names the queue, as the pairing was made from its wait.
    {
      type: "log",
      event: "match.paired",
      fields: {
        sessionId: setup.sessionId,
        queue: (a.waitedMs >= b.waitedMs ? a : b).queueKey,
        waitedMs: Math.max(a.waitedMs, b.waitedMs),
        relaxed: setup.relaxed.join(","),
      },
    },
  ];
}

/** The room with one participant (found by alias) replaced. */
function withParticipant(
  s: Extract<RoomState, { kind: "chatting" }>,
  p: Participant,
): Extract<RoomState, { kind: "chatting" }> {
  const participants: [Participant, Participant] =
    s.participants[0].alias === p.alias ? [p, s.participants[1]] : [s.participants[0], p];
  return { ...s, participants };
}

function admit(s: Extract<RoomState, { kind: "chatting" }>, alias: string, now: number, live: Live): Step<Hello> {
  const [me, partner] = ordered(s, alias);
  const firstTime = !me.joined;
  const joined: Participant = { ...me, joined: true };
  const participants = withParticipant(s, joined).participants;
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
  if (firstTime)
    effects.push({
      type: "send",
      to: partner.alias,
      frame: { type: "partner_joined", partner: view(joined, { ...live, [alias]: now }) },
    });
  else if (live[alias] == null)
    effects.push({ type: "send", to: partner.alias, frame: { type: "partner_online", partnerId: alias } });
  return step({ ...s, participants, lastActivity: now, emptySince: null }, effects, { ok: true, alias });
}

/**
 * A chat message, with the moderation filter's verdict on it: relayed as written, relayed with
 * what matched hidden, or refused (the sender is told, the partner sees nothing). When the room
 * looked at its sockets' liveness for this message (`live`; null when it did not: it looks now
 * and then, not on every message), a socket that stopped answering is dropped on the way.
 */
export function message(
  s: RoomState,
  alias: string,
  m: Omit<ChatMessage, "from" | "at">,
  verdict: Verdict,
  now: number,
  live: Live | null,
  r: RoomRules,
): Step<Refusal> {
  if (s.kind !== "chatting") return step(s, [], s.kind === "ended" ? ENDED : NOT_PAIRED);
  // A participant's first message is saved as "spoke" (once per participant): a report of what
  // they said must count even after the history's 20 rows moved on, or when the filter refused it.
  const me = ordered(s, alias)[0];
  const said = me.spoke ? s : withParticipant(s, { ...me, spoke: true });
  const persist = me.spoke ? { persist: false as const } : {};
  if (verdict.action === "refuse")
    return { state: said, effects: filtered(s, alias, verdict), reply: FILTERED, ...persist };
  const stored: ChatMessage =
    verdict.action === "mask"
      ? { ...m, text: verdict.text, masked: true, from: alias, at: now }
      : { ...m, from: alias, at: now };
  const effects: RoomEffect[] = [{ type: "store", message: stored }, ...(live ? vanished(s, now, live, r) : [])];
  if (verdict.action === "mask") effects.push(...filtered(s, alias, verdict));
  return { state: { ...said, lastActivity: now }, effects, reply: null, ...persist };
}

/** What the filter found is counted and logged, never the text. */
function filtered(
  s: Extract<RoomState, { kind: "chatting" }>,
  alias: string,
  verdict: Exclude<Verdict, { action: "pass" }>,
): RoomEffect[] {
  const categories = verdict.categories.join(",");
  return [
    {
      type: "log",
      event: "chat.filtered",
      fields: { sessionId: s.setup.sessionId, participant: alias, action: verdict.action, categories },
    },
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
  const effects: RoomEffect[] = [
    { type: "log", event: "chat.left", fields: { sessionId: s.setup.sessionId, participant: alias } },
    { type: "send", to: ordered(s, alias)[1].alias, frame: { type: "partner_left", partnerId: alias } },
  ];
  return end(s, "left", now, effects);
}

/**
 * A report ends the chat at once and blocks the partner for the reporter. It counts against
 * the partner only if the partner joined and spoke: a stranger who never came, or said
 * nothing, gave nobody anything to report. (A room paired from waits stored before reports
 * carried networks cannot say whose report is independent: it only blocks.)
 */
export function report(s: RoomState, alias: string, reason: ReportReason, now: number): Step<Refusal> {
  if (s.kind !== "chatting") return step(s, [], { code: "not_paired", message: "There is nobody to report." });
  const [me, partner] = ordered(s, alias);
  const counts = partner.joined && partner.spoke === true && me.network !== undefined && partner.network !== undefined;
  const ended = end(s, "reported", now, [
    {
      type: "log",
      event: "chat.reported",
      fields: { sessionId: s.setup.sessionId, participant: alias, reason, counted: counts },
    },
  ]);
  // Filed last: the chat is closed and forgotten whatever the device records answer.
  const reported = { device: partner.device, user: partner.user, network: partner.network };
  ended.effects.push({
    type: "report",
    reported,
    by: { device: me.device, network: me.network, vouched: me.vouched },
    reason,
    counts,
  });
  return { ...ended, reply: null };
}

/** A participant's device was banned (by reports from other chats): this chat ends too. */
export function evict(s: RoomState, device: string, now: number): Step {
  if (s.kind === "ended") return step(s, [], undefined);
  return s.participants.some((p) => p.device === device) ? end(s, "banned", now, []) : step(s, [], undefined);
}

/** A socket closed or failed; `live` no longer counts it. */
export function socketGone(s: RoomState, alias: string, now: number, live: Live): Step {
  if (s.kind !== "chatting" || live[alias] != null) return step(s, [], undefined);
  const [, partner] = ordered(s, alias);
  const effects: RoomEffect[] = [
    { type: "send", to: partner.alias, frame: { type: "partner_offline", partnerId: alias } },
  ];
  const empty = live[partner.alias] == null;
  return step({ ...s, emptySince: empty ? (s.emptySince ?? now) : null }, effects, undefined);
}

/** Alarms run at least once, at `nextAlarm` or later: every branch is safe to repeat. */
export function alarm(s: RoomState, now: number, live: Live, r: RoomRules): Step {
  if (s.kind === "ended") return step(s, [{ type: "erase" }], undefined);
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
  const deadlines = [s.lastActivity + r.roomIdleMs];
  if (!isFinal(s)) deadlines.push(s.openedAt + r.connectWindowMs);
  if (s.emptySince !== null) deadlines.push(s.emptySince + r.emptyRoomMs);
  return Math.min(...deadlines);
}

function dueEnd(s: Extract<RoomState, { kind: "chatting" }>, now: number, r: RoomRules): CloseReason | null {
  if (!isFinal(s) && now >= s.openedAt + r.connectWindowMs) return "partner_missing";
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

/** Both have joined: the pairing stands. */
const isFinal = (s: Extract<RoomState, { kind: "chatting" }>): boolean => s.participants.every((p) => p.joined);

function end(s: Extract<RoomState, { kind: "chatting" }>, reason: CloseReason, now: number, first: RoomEffect[]): Step {
  // Someone never came: whoever came from a wait gets it back, before anyone is told (so that going back finds it).
  const returns: RoomEffect[] =
    reason === "partner_missing"
      ? s.participants.flatMap((p) =>
          p.returnTo ? [{ type: "restore" as const, ...p.returnTo, sessionId: s.setup.sessionId }] : [],
        )
      : [];
  const effects: RoomEffect[] = [
    ...first,
    ...returns,
    { type: "send", to: "all", frame: { type: "closed", reason } },
    { type: "close_all", code: CLOSE.ended, reason: `chat ended: ${reason}` },
  ];
  // Every room its lobby counted as opened is counted closed, whether the pairing became final or not.
  effects.push({ type: "count", event: { kind: "room_closed" } });
  const cleaned = {
    sessionId: s.setup.sessionId,
    reason,
    status: isFinal(s) ? "chatting" : "pending",
    ageMs: now - s.openedAt,
  };
  effects.push({ type: "erase", cleaned });
  return step({ kind: "ended", sessionId: s.setup.sessionId, reason }, effects, undefined);
}

function ordered(s: Extract<RoomState, { kind: "chatting" }>, alias: string): [Participant, Participant] {
  const [a, b] = s.participants;
  return a.alias === alias ? [a, b] : [b, a];
}

function view(p: Participant, live: Live): Partner {
  return { id: p.alias, name: p.name, online: live[p.alias] != null };
}

/**
 * A stored state, in today's shape. Rooms saved before the lobbies (protocol 2) waited for a
 * seat's confirmation ("pending": that seat is gone, so the pairing never became final) or
 * named their two sides owner and claimer.
 */
type StoredBefore3 =
  | { kind: "pending"; setup: { sessionId: string } }
  | {
      kind: "chatting";
      setup: {
        sessionId: string;
        relaxed: RoomSetup["relaxed"];
        shared?: string[];
        languages?: string[];
        queueKey: string;
        waitedMs: number;
        claimerQueueKey?: string;
        claimerWaitedMs?: number;
      };
      participants: [Side & { joined: boolean }, Side & { joined: boolean }];
      confirmedAt: number;
      lastActivity: number;
      emptySince: number | null;
    };

export function readStored(stored: RoomState | StoredBefore3): RoomState {
  if (stored.kind === "ended" || "sides" in stored.setup) return stored as RoomState;
  if (stored.kind === "pending") return { kind: "ended", sessionId: stored.setup.sessionId, reason: "partner_missing" };
  const { setup, participants, confirmedAt, lastActivity, emptySince } = stored as Extract<
    StoredBefore3,
    { kind: "chatting" }
  >;
  const waits = [
    { queueKey: setup.queueKey, waitedMs: setup.waitedMs },
    { queueKey: setup.claimerQueueKey ?? setup.queueKey, waitedMs: setup.claimerWaitedMs ?? 0 },
  ];
  const sides = participants.map((p, i) => ({ ...p, ...waits[i], returnTo: null }));
  return {
    kind: "chatting",
    setup: {
      sessionId: setup.sessionId,
      relaxed: setup.relaxed,
      shared: setup.shared ?? [],
      languages: setup.languages ?? ["any"],
      sides: sides.map(({ joined: _, ...side }) => side) as RoomSetup["sides"],
    },
    participants: sides as [Side & { joined: boolean }, Side & { joined: boolean }],
    openedAt: confirmedAt,
    lastActivity,
    emptySince,
  };
}
