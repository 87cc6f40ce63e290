/**
 * How every part of the worker reaches the objects, by name: a lobby per queue, a room per
 * pairing, device records and counters in shards (an object holds storage files open while it
 * lives, and creating one costs more than a call to a live one). Every call is metered here, by
 * kind and, for the kinds with many callers per object, by object: the bench's capacity model
 * reads the busiest. The stubs are typed by the bindings (worker-configuration.d.ts), so this
 * module imports no class and nothing imports in a circle.
 */

import { SHARDS } from "@strangers/protocol";
import { meterCall } from "./metering";

/** `npm run bench` prints the busiest shard's rate per 1,000 chats: these leave room well past 100,000 concurrent chats (README: "Capacity"). */
export const { devices: DEVICE_SHARDS, stats: STATS_SHARDS } = SHARDS;

/** A stable shard for an id: FNV-1a, so every caller agrees without asking anyone. */
export function shardOf(id: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return (h >>> 0) % shards;
}

/** A stub whose every method call is metered as a call to `kind` (and to `name`, for a kind whose objects each serve many). */
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

const statsShard = (env: Env, shard: number) => env.STATS.get(env.STATS.idFromName(`shard-${shard}`));

/** The lobby of a queue (matchmaker.ts names it), or a pool (`mode/*`, metered apart: it sees only long waits). */
export const lobbyStub = (env: Env, name: string) =>
  metered(env.LOBBY.get(env.LOBBY.idFromName(name)), name.endsWith("/*") ? "pool" : "lobby", name);

/** Not metered: what only all of them together know (who waits where) is read, and reading must not change the counts. */
export const unmeteredLobby = (env: Env, name: string) => env.LOBBY.get(env.LOBBY.idFromName(name));
export const allStatsShards = (env: Env) => Array.from({ length: STATS_SHARDS }, (_, n) => statsShard(env, n));

function deviceShard(env: Env, shard: number) {
  const name = `devices-${shard}`;
  return metered(env.DEVICE_BOOK.get(env.DEVICE_BOOK.idFromName(name)), "devices", name);
}

export const deviceStub = (env: Env, device: string) => deviceShard(env, shardOf(device, DEVICE_SHARDS));
/** Every device shard: what a ban leaves beyond its device goes to each. */
export const allDeviceShards = (env: Env) => Array.from({ length: DEVICE_SHARDS }, (_, n) => deviceShard(env, n));

export const roomStub = (env: Env, sessionId: string) =>
  metered(env.CHAT_ROOM.get(env.CHAT_ROOM.idFromName(sessionId)), "room", null);

export const statsStub = (env: Env, shard: number) => metered(statsShard(env, shard), "stats", `shard-${shard}`);
