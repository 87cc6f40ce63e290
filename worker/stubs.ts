/**
 * How every part of the worker reaches the objects, by name: one room per pairing; waits,
 * device records, counters and (with that backend) queues in shards, so a passing user costs
 * no object of its own (an object holds storage files open while it lives, and creating one
 * costs more than a call to a live one). Every call is metered here, by kind and, for the
 * sharded kinds, by object: the bench's capacity model reads the busiest. The stubs are typed
 * by the bindings (worker-configuration.d.ts), so this module imports no class and nothing
 * imports in a circle.
 */
import { nanoid } from "nanoid";
import { meterCall } from "./metering";
import { SHARDS } from "./protocol";

/** `npm run bench` prints the busiest shard's rate per 1,000 chats: these leave room well past 100,000 concurrent chats (README: "Capacity"). */
export const { seats: SEAT_SHARDS, devices: DEVICE_SHARDS, stats: STATS_SHARDS } = SHARDS;

/** A stable shard for an id: FNV-1a, so every caller agrees without asking anyone. */
export function shardOf(id: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return (h >>> 0) % shards;
}

/** A stub whose every method call is metered as a call to `kind` (and to `name`, for a sharded kind). */
function metered<T extends object>(stub: T, kind: string, name: string | null): T {
  return new Proxy(stub, {
    get(target, property) {
      const value = Reflect.get(target, property);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        meterCall(kind, name);
        // Reflect.apply, not value.apply: on an RPC method every property is another remote name.
        return Reflect.apply(value, target, args);
      };
    },
  });
}

/**
 * Every wait of one device lives in the same shard, so the shard alone can keep it to one wait
 * and end it on a ban. A seat id begins with its shard (two base-36 digits), so a ticket or a
 * socket URL finds its shard without a lookup.
 */
export const newSeatId = (device: string): string => `${shardOf(device, SEAT_SHARDS).toString(36).padStart(2, "0")}${nanoid(19)}`;

const seatShard = (env: Env, shard: number) => env.WAITING_SEATS.get(env.WAITING_SEATS.idFromName(`seats-${shard}`));
const statsShard = (env: Env, shard: number) => env.STATS.get(env.STATS.idFromName(`shard-${shard}`));

function seats(env: Env, shard: number) {
  return metered(seatShard(env, shard), "seats", `seats-${shard}`);
}

/** The shard a seat id names (a malformed one reaches shard 0, which does not know it). */
export function seatStub(env: Env, seatId: string) {
  const shard = /^[0-9a-z]{2}/.test(seatId) ? parseInt(seatId.slice(0, 2), 36) : 0;
  return seats(env, shard < SEAT_SHARDS ? shard : 0);
}

/** The shard that holds a device's waits. */
export const seatsOfDevice = (env: Env, device: string) => seats(env, shardOf(device, SEAT_SHARDS));

/**
 * Every seat shard and every counter shard, for what only all of them together know (how many
 * wait where, how many chat). Not metered: the report counts the calls users cause, and
 * reading it must not change it.
 */
export const allSeatShards = (env: Env) => Array.from({ length: SEAT_SHARDS }, (_, n) => seatShard(env, n));
export const allStatsShards = (env: Env) => Array.from({ length: STATS_SHARDS }, (_, n) => statsShard(env, n));

export function deviceStub(env: Env, device: string) {
  const name = `devices-${shardOf(device, DEVICE_SHARDS)}`;
  return metered(env.DEVICE_BOOK.get(env.DEVICE_BOOK.idFromName(name)), "devices", name);
}

export const roomStub = (env: Env, sessionId: string) => metered(env.CHAT_ROOM.get(env.CHAT_ROOM.idFromName(sessionId)), "room", null);

export const statsStub = (env: Env, shard: number) => metered(statsShard(env, shard), "stats", `shard-${shard}`);

/** A MatchQueue (the "durable-object" backend): one per mode and language, and one per mode for any language. */
export const queueStub = (env: Env, name: string) => metered(env.MATCH_QUEUE.get(env.MATCH_QUEUE.idFromName(name)), "queue", name);
