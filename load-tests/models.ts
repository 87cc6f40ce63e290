/**
 * What a measured run says about scale and money: per-operation counts from the service's own
 * meters (read through /api/stats) turned into the request rate of its busiest objects at
 * 10,000 and 100,000 concurrent chats, and into a monthly Cloudflare bill. Pure functions of
 * the measurements and of assumptions that are printed beside every result.
 */
import { readFileSync } from "node:fs";

export type Operations = { [operation: string]: number };

/** What one service run measured. */
export type Measured = {
  /** Users who arrived (each pairs once) and messages relayed in the whole run. */
  users: number;
  messages: number;
  /** Operations of the whole run. */
  operations: Operations;
  /** Operations per message, from a window with messages only (matching over); null: no such window. */
  perMessage: Operations | null;
  /** The server's CPU per matched user, locally (an upper bound for a Worker's own CPU). */
  cpuMsPerUser: number;
};

/** Operations per pairing: the run's, less what its messages cost. */
export function perPairing(m: Measured): Operations {
  const pairings = m.users / 2;
  const out: Operations = {};
  for (const [key, n] of Object.entries(m.operations)) {
    if (key.endsWith(".busiest") || !pairings) continue;
    out[key] = Math.max(0, n - (m.perMessage?.[key] ?? 0) * m.messages) / pairings;
  }
  return out;
}

export type Assumptions = {
  /** Average length of a chat, from pairing to leaving. */
  chatMinutes: number;
  /** Messages per chat per minute: the standard pace, one per user every 5 s. */
  messagesPerChatMinute: number;
  /** Share of arrivals in the busiest language (its lobby takes them all, unless split by feeling). */
  busiestLanguageShare: number;
  /** Share of that language's arrivals in its busiest feeling (its lobby's share once the language is split). */
  busiestFeelingShare: number;
  /** Objects of each sharded kind (stubs.ts), and lobbies that are always busy (one per language in use, and a pool per mode). */
  shards: { devices: number; stats: number };
  lobbies: number;
  /** The share of messages logged one line each in production (MESSAGE_LOG_SAMPLE_RATE of the deployed environments). */
  messageLogRate: number;
};

export const SOFT_LIMIT_PER_OBJECT = 1_000;
const MONTH_SECONDS = 30 * 86_400;

const per = (ops: Operations, key: string, n: number) => (n > 0 ? (ops[key] ?? 0) / n : 0);

/** Arriving users per second that keep `chats` concurrent chats going. */
export const arrivalsPerSecond = (chats: number, a: Assumptions) => (2 * chats) / (a.chatMinutes * 60);

export type CapacityRow = {
  object: string;
  perUser: number;
  busiestShare: number;
  per1000Chats: number;
  perArrivalPerS: number;
  at10k: number;
  at100k: number;
};

/**
 * The busiest single object of each kind: calls per arriving user, times the share the busiest
 * object of that kind took in the run (a shard's share is about 1/N; a queue object's is the
 * busiest queue's share of arrivals), at the arrival rate that keeps N chats going. A room is
 * one chat, so its rate never grows with scale.
 */
export function capacity(m: Measured, a: Assumptions): CapacityRow[] {
  const row = (object: string, perUser: number, busiestShare: number): CapacityRow => {
    const perArrivalPerS = perUser * busiestShare;
    return {
      object,
      perUser,
      busiestShare,
      perArrivalPerS,
      per1000Chats: perArrivalPerS * arrivalsPerSecond(1000, a),
      at10k: perArrivalPerS * arrivalsPerSecond(10_000, a),
      at100k: perArrivalPerS * arrivalsPerSecond(100_000, a),
    };
  };
  const share = (kind: string) => {
    const total = m.operations[`call.${kind}`] ?? 0;
    return total ? (m.operations[`call.${kind}.busiest`] ?? 0) / total : 0;
  };
  const ops = m.operations;
  // What wakes a lobby: calls (requests, upgrades of the waiting socket, rooms giving waits back), frames on its sockets, alarms.
  const lobbyEvents =
    per(ops, "call.lobby", m.users) + per(ops, "lobby.frame", m.users) + per(ops, "lobby.alarm", m.users);
  const language = `${Math.round(a.busiestLanguageShare * 100)} %`;
  const rows = [
    row(`Lobby of the busiest language (${language} of arrivals)`, lobbyEvents, a.busiestLanguageShare),
    row(
      `… split by feeling (LOBBY_SPLIT_LANGUAGES): its busiest feeling (${Math.round(a.busiestFeelingShare * 100)} % of the language)`,
      lobbyEvents,
      a.busiestLanguageShare * a.busiestFeelingShare,
    ),
    // Waits lent for a wider search; one pool per mode takes them all.
    row("Pool of a mode (mode/*)", per(ops, "call.pool", m.users), 1),
    row(`DeviceBook shard (${a.shards.devices})`, per(ops, "call.devices", m.users), share("devices")),
    row(`Stats shard (${a.shards.stats})`, per(ops, "call.stats", m.users), share("stats")),
  ];
  // A room takes its chat's messages and pings, whatever the scale.
  const roomPerS = a.messagesPerChatMinute / 60;
  rows.push({
    object: "ChatRoom (one chat)",
    perUser: 0,
    busiestShare: 0,
    perArrivalPerS: 0,
    per1000Chats: roomPerS,
    at10k: roomPerS,
    at100k: roomPerS,
  });
  return rows;
}

// ---------------------------------------------------------------- cost

type Price = { included: number; perMillion: number; unit: string };
export type PriceTable = {
  asOf: string;
  currency: string;
  sources: Record<string, string>;
  plan: { name: string; monthly: number };
  items: Record<
    | "workerRequests"
    | "workerCpuMs"
    | "doRequests"
    | "doDurationGbS"
    | "sqliteRowsRead"
    | "sqliteRowsWritten"
    | "kvReads"
    | "kvWrites"
    | "kvDeletes"
    | "kvLists"
    | "logEvents",
    Price
  >;
  doMemoryGb: number;
  webSocketMessagesPerRequest: number;
};

export const loadPrices = (): PriceTable =>
  JSON.parse(readFileSync(new URL("./cloudflare-prices.json", import.meta.url), "utf8")) as PriceTable;

export type Pace = "standard" | "quiet";
export type CostLine = { item: keyof PriceTable["items"]; usage: number; dollars: number };
export type Bill = { scenario: string; lines: CostLine[]; total: number };

/** After its last event a hibernatable object stays in memory (billed) about this long. */
const AWAKE_AFTER_LAST_EVENT_S = 10;

/**
 * A month of `chats` concurrent chats. `standard`: everyone sends at the standard pace, so a
 * room is never idle long enough to hibernate. `quiet`: chats that only ping (the page every
 * 10 s, answered by the runtime, not billed): with hibernation a room is awake only around its
 * few events; `hibernation: false` prices a design that keeps rooms awake (a periodic alarm,
 * non-hibernating sockets).
 */
export function monthlyBill(
  m: Measured,
  chats: number,
  a: Assumptions,
  prices: PriceTable,
  pace: Pace,
  hibernation: boolean,
): Bill {
  const pairing = perPairing(m);
  const message = m.perMessage ?? {};
  const pairingsPerMonth = (chats / (a.chatMinutes * 60)) * MONTH_SECONDS;
  const messagesPerMonth = pace === "standard" ? chats * a.messagesPerChatMinute * (MONTH_SECONDS / 60) : 0;
  const of = (ops: Operations, key: string) => ops[key] ?? 0;
  const sumCalls = (ops: Operations) =>
    Object.entries(ops).reduce((s, [k, n]) => s + (k.startsWith("call.") && !k.endsWith(".busiest") ? n : 0), 0);
  /** Requests a Durable Object is billed: calls (RPC and upgrades), alarms, and incoming socket frames at 1 per 20. */
  const doRequests = (ops: Operations) =>
    sumCalls(ops) +
    of(ops, "room.alarm") +
    of(ops, "lobby.alarm") +
    (of(ops, "room.frame") + of(ops, "lobby.frame")) / prices.webSocketMessagesPerRequest;
  const roomAwakeS =
    pace === "standard" || !hibernation ? a.chatMinutes * 60 + AWAKE_AFTER_LAST_EVENT_S : 3 * AWAKE_AFTER_LAST_EVENT_S;
  // Under this load every shard and every lobby in use is always busy, hence always awake.
  const shardObjects = a.shards.devices + a.shards.stats + a.lobbies;
  const both = (key: string) => of(pairing, key) * pairingsPerMonth + of(message, key) * messagesPerMonth;
  const usage: Record<keyof PriceTable["items"], number> = {
    workerRequests: both("worker.request"),
    workerCpuMs: m.cpuMsPerUser * 2 * pairingsPerMonth,
    doRequests: doRequests(pairing) * pairingsPerMonth + doRequests(message) * messagesPerMonth,
    doDurationGbS: prices.doMemoryGb * (roomAwakeS * pairingsPerMonth + shardObjects * MONTH_SECONDS),
    sqliteRowsRead: both("rows.read"),
    sqliteRowsWritten: both("rows.written"),
    kvReads: both("kv.get"),
    kvWrites: both("kv.put"),
    kvDeletes: both("kv.delete"),
    kvLists: both("kv.list"),
    // The run's own log lines (the bench logs no message: MESSAGE_LOG_SAMPLE_RATE=0), plus the messages' at the deployed rate.
    logEvents: both("log.events") + messagesPerMonth * a.messageLogRate,
  };
  const lines = (Object.keys(usage) as (keyof PriceTable["items"])[]).map((item) => {
    const p = prices.items[item];
    return { item, usage: usage[item], dollars: (Math.max(0, usage[item] - p.included) / 1e6) * p.perMillion };
  });
  const scenario = `${pace === "standard" ? "standard pace" : "quiet chats (pings only)"}, ${hibernation ? "rooms hibernate when idle" : "rooms kept awake"}`;
  return { scenario, lines, total: prices.plan.monthly + lines.reduce((s, l) => s + l.dollars, 0) };
}
