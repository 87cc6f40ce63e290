import { listDurableObjectIds, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DEVICE_SHARDS, deviceStub, shardOf } from "../worker/platform/stubs";
import { match, newUser, uniqueMode, waitUntil } from "./helpers";

describe("objects", () => {
  it("spread device records evenly over their shards: no shard takes much more than its share", () => {
    const counts = new Array<number>(DEVICE_SHARDS).fill(0);
    const ids = 20_000;
    for (let i = 0; i < ids; i++) counts[shardOf(crypto.randomUUID().replaceAll("-", ""), DEVICE_SHARDS)]++;
    const share = ids / DEVICE_SHARDS;
    expect(Math.max(...counts)).toBeLessThan(1.25 * share);
    expect(Math.min(...counts)).toBeGreaterThan(0.75 * share);
  });

  it("hold a burst of arrivals in one lobby: no wait and no device record costs an object of its own", async () => {
    const lobbies = (await listDurableObjectIds(env.LOBBY)).length;
    const mode = uniqueMode();
    // Distinct devices, one search each: 160 waits or pairings decided by one object.
    const answers = await Promise.all(Array.from({ length: 160 }, () => match(newUser({ mode }))));
    // A newcomer is answered once paired or when its short hold ends, so both halves of a
    // pairing made during the hold may hear "matched": 80 pairings, none with a third member.
    const sessions = new Map<string, number>();
    for (const a of answers) if (a.matched) sessions.set(a.sessionId, (sessions.get(a.sessionId) ?? 0) + 1);
    expect(sessions.size).toBe(80);
    expect(Math.max(...sessions.values())).toBeLessThanOrEqual(2);
    expect((await listDurableObjectIds(env.LOBBY)).length).toBe(lobbies + 1);
    expect((await listDurableObjectIds(env.DEVICE_BOOK)).length).toBeLessThanOrEqual(DEVICE_SHARDS);
  });

  it("forget a device's record once nothing in it matters any more", async () => {
    const device = `forgotten-${crypto.randomUUID()}`;
    // The raw stub, which the test helpers need (the worker's own stubs are metered).
    const book = env.DEVICE_BOOK.get(deviceStub(env, device).id);
    await book.met(device, "someone", "session-1");
    expect(await book.standing(device, "user", "network", "any/en")).toMatchObject({ avoid: ["someone"] });
    // Everything in it expires now (the rules are tested with a fake clock; here only the wiring).
    await runInDurableObject(book, (_instance, state) => {
      state.storage.sql.exec("UPDATE devices SET keep_until = ? WHERE device = ?", Date.now() - 1, device);
    });
    await waitUntil(() => runDurableObjectAlarm(book));
    const left = await runInDurableObject(book, (_instance, state) =>
      state.storage.sql.exec("SELECT device FROM devices WHERE device = ?", device).toArray(),
    );
    expect(left).toEqual([]);
    expect(await book.standing(device, "user", "network", "any/en")).toEqual({
      bannedUntil: null,
      avoid: [],
      human: false,
      vouched: false,
    });
  });
});
