import { env } from "cloudflare:workers";
import { listDurableObjectIds, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { DEVICE_SHARDS, SEAT_SHARDS, deviceStub, newSeatId, seatStub, seatsOfDevice, shardOf } from "../worker/stubs";
import { match, newUser, uniqueMode, waitUntil } from "./helpers";

describe("shards", () => {
  it("spread ids evenly: no shard takes much more than its share", () => {
    const counts = new Array<number>(SEAT_SHARDS).fill(0);
    const ids = 20_000;
    for (let i = 0; i < ids; i++) counts[shardOf(crypto.randomUUID().replaceAll("-", ""), SEAT_SHARDS)]++;
    const share = ids / SEAT_SHARDS;
    expect(Math.max(...counts)).toBeLessThan(1.25 * share);
    expect(Math.min(...counts)).toBeGreaterThan(0.75 * share);
  });

  it("keep every wait of a device in that device's shard, and a seat id names its shard", async () => {
    const device = "0123456789abcdef0123456789abcdef";
    const seatIds = Array.from({ length: 5 }, () => newSeatId(device));
    expect(new Set(seatIds).size).toBe(5);
    for (const seatId of seatIds) {
      expect(seatId).toMatch(/^[A-Za-z0-9_-]{21}$/);
      expect(seatStub(env, seatId).id.toString()).toBe(seatsOfDevice(env, device).id.toString());
    }
  });

  it("hold a burst of arrivals in a few objects: no wait and no device record costs an object of its own", async () => {
    const mode = uniqueMode();
    const users = Array.from({ length: 160 }, () => newUser({ mode }));
    const answers = await Promise.all(users.map((u) => match(u)));
    const waiting = answers.filter((a) => !a.matched).length;
    // Most arrivals opened a wait of their own; all of them live in at most SEAT_SHARDS objects.
    expect(waiting).toBeGreaterThan(SEAT_SHARDS);
    expect((await listDurableObjectIds(env.WAITING_SEATS)).length).toBeLessThanOrEqual(SEAT_SHARDS);
    expect((await listDurableObjectIds(env.DEVICE_BOOK)).length).toBeLessThanOrEqual(DEVICE_SHARDS);
  });

  it("forget a device's record once nothing in it matters any more", async () => {
    const device = `forgotten-${crypto.randomUUID()}`;
    // The raw stub, which the test helpers need (the worker's own stubs are metered).
    const book = env.DEVICE_BOOK.get(deviceStub(env, device).id);
    await book.met(device, "someone", "session-1");
    expect((await book.standing(device)).avoid).toEqual(["someone"]);
    // Everything in it expires now (the rules are tested with a fake clock; here only the wiring).
    await runInDurableObject(book, (_instance, state) => {
      state.storage.sql.exec("UPDATE devices SET keep_until = ? WHERE device = ?", Date.now() - 1, device);
    });
    await waitUntil(() => runDurableObjectAlarm(book));
    const left = await runInDurableObject(book, (_instance, state) => state.storage.sql.exec("SELECT device FROM devices WHERE device = ?", device).toArray());
    expect(left).toEqual([]);
    expect(await book.standing(device)).toEqual({ bannedUntil: null, avoid: [], human: false });
  });
});
