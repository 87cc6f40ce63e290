/**
 * The Lobby object's wiring: its queue survives eviction and restarts (rebuilt from its store
 * and from its sockets' attachments), and a wait lent to the pool is never offered at home
 * again after a rebuild. The rules themselves are lobby-rules.test.ts, on a fake clock.
 */

import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Lobby } from "../worker/matching/lobby";
import {
  lobbyOf,
  match,
  matched,
  newUser,
  seatOf,
  timePasses,
  uniqueMode,
  wait,
  waitingIn,
  waitOnSocket,
  waitUntil,
} from "./helpers";

/** Long enough that the lobby writes the wait to its store (it writes waits that last a sixth of the window: 5 s / 6 in tests). */
const WRITTEN_AFTER_MS = 1_000;
/** The any-language threshold in tests. */
const LANGUAGE_AFTER_MS = 2_000;

/** How many waits of a lobby its store holds (KV keys, or the object's own storage). */
const stored = async (mode: string, language = "any"): Promise<number> =>
  env.MATCHMAKER === "durable-object"
    ? runInDurableObject(
        lobbyOf(mode, language),
        async (_l, state) => (await state.storage.list({ prefix: "wait:" })).size,
      )
    : (await env.QUEUE.list({ prefix: `q/${mode}/${language}/` })).keys.length;

describe("a lobby", () => {
  it("keeps its queue when it is evicted: a waiter on its socket is still offered, and told on the same socket", async () => {
    const mode = uniqueMode();
    const { waiting, socket } = await waitOnSocket(newUser({ mode, userName: "Ana" }));
    // Evicted at once, before anything was written: the socket's attachment remembers the wait.
    await evictDurableObject(lobbyOf(mode));
    expect(await waitingIn(mode)).toEqual([seatOf(waiting.ticket)]);
    const ben = await matched(newUser({ mode }));
    expect(ben.partnerName).toBe("Ana");
    expect(await socket.next("matched")).toMatchObject({ sessionId: ben.sessionId });
  });

  it("rebuilds from its store a wait whose owner only polls", async () => {
    const mode = uniqueMode();
    const ana = newUser({ mode, userName: "Ana" });
    const waiting = await wait(ana);
    await timePasses(WRITTEN_AFTER_MS, lobbyOf(mode));
    await runDurableObjectAlarm(lobbyOf(mode));
    await waitUntil(async () => (await stored(mode)) === 1, 2000, "the wait to be written");
    await evictDurableObject(lobbyOf(mode), { webSockets: "close" });
    // The same ticket finds the same wait, at its place.
    expect(await match({ ...ana, ticket: waiting.ticket })).toMatchObject({ matched: false, ticket: waiting.ticket });
    expect(await matched(newUser({ mode }))).toMatchObject({ partnerName: "Ana" });
  });

  it("never offers at home a wait it lent to the pool, even after a restart", async () => {
    const mode = uniqueMode();
    const ana = newUser({ mode, language: "en", anyLanguage: true, userName: "Ana" });
    const { waiting } = await waitOnSocket(ana);
    const home = lobbyOf(mode, "en");
    // Past the any-language threshold its alarm lends it to the pool.
    await timePasses(LANGUAGE_AFTER_MS, home);
    await runDurableObjectAlarm(home);
    await waitUntil(
      async () => (await runInDurableObject(home, (l: Lobby) => l.get(seatOf(waiting.ticket))?.kind)) === "lent",
      4000,
      "the wait to be lent",
    );
    await evictDurableObject(home);
    expect(await runInDurableObject(home, (l: Lobby) => l.get(seatOf(waiting.ticket))?.kind)).toBe("lent");
    // A newcomer of Ana's exact queue asks for her back, and meets her.
    const ben = await match(newUser({ mode, language: "en" }));
    if (ben.matched) expect(ben.partnerName).toBe("Ana");
    else
      await waitUntil(
        async () => (await match({ ...ana, ticket: waiting.ticket })).matched,
        3000,
        "Ana back from the pool and paired",
      );
  });
});
