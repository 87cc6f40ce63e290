import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { MatchFound, MatchResponse, MatchWaiting } from "../worker/protocol";
import { timings } from "../worker/config";
import { waitingListFor } from "../worker/waiting-list";
import { connect, match, newUser, postMatch, sleep, uniqueLanguage } from "./helpers";

/** Who the waiting list (whichever backend) shows as waiting in a language's "any" queue. */
const queueEntries = async (language: string) =>
  (await waitingListFor(env, timings(env)).fresh({ mode: "any", emotion: "any", language }, "exact", Date.now())).map((e) => e.sessionId);

describe("POST /api/match", () => {
  it("queues the first user and pairs the second into the same session", async () => {
    const language = uniqueLanguage();
    const alice = newUser({ language, userName: "Alice" });
    const bob = newUser({ language, userName: "Bob" });

    const waiting = (await match(alice)) as MatchWaiting;
    expect(waiting).toMatchObject({ success: true, matched: false, queueKey: `any:any:${language}` });
    expect(waiting.ticket).toMatch(/\./);
    expect(waiting.wsUrl).toMatch(/^ws:\/\/chat\.test\/chat\?sessionId=/);

    const bobMatch = (await match(bob)) as MatchFound;
    expect(bobMatch).toMatchObject({ success: true, matched: true, partnerName: "Alice" });
    const aliceMatch = (await match({ ...alice, ticket: waiting.ticket })) as MatchFound;
    expect(aliceMatch).toMatchObject({ matched: true, partnerName: "Bob", sessionId: bobMatch.sessionId });

    // Each side has its own secret token, and the aliases reveal nothing.
    expect(aliceMatch.wsUrl).not.toBe(bobMatch.wsUrl);
    for (const alias of [aliceMatch.partnerId, bobMatch.partnerId]) {
      for (const secret of [alice.userId, alice.deviceId, bob.userId, bob.deviceId]) expect(secret).not.toContain(alias);
    }
    expect(JSON.stringify([aliceMatch, bobMatch])).not.toMatch(/user-|device-/);
    expect(await queueEntries(language)).toEqual([]);
  });

  it("builds wss: URLs for https origins", async () => {
    const res = await postMatch(newUser({ language: uniqueLanguage() }), {}).then(() =>
      postMatch(newUser({ language: uniqueLanguage() })),
    );
    const https = await (
      await import("cloudflare:workers")
    ).exports.default.fetch("https://chat.example/api/match", {
      method: "POST",
      body: JSON.stringify(newUser({ language: uniqueLanguage() })),
    });
    expect(res.status).toBe(200);
    expect(((await https.json()) as MatchWaiting).wsUrl).toMatch(/^wss:\/\/chat\.example\/chat\?/);
  });

  it("is idempotent while polling: one queue entry, and the same match once paired", async () => {
    const language = uniqueLanguage();
    const alice = newUser({ language });
    const first = (await match(alice)) as MatchWaiting;
    for (let i = 0; i < 5; i++) {
      const again = (await match({ ...alice, ticket: first.ticket })) as MatchWaiting;
      expect(again).toMatchObject({ matched: false, sessionId: first.sessionId, ticket: first.ticket });
    }
    expect(await queueEntries(language)).toHaveLength(1);

    await match(newUser({ language }));
    const matched = (await match({ ...alice, ticket: first.ticket })) as MatchFound;
    expect(await match({ ...alice, ticket: first.ticket })).toEqual(matched);
  });

  it("replaces the wait of a client that polls without its ticket, instead of queueing it twice", async () => {
    const language = uniqueLanguage();
    const legacy = newUser({ language });
    const first = (await match(legacy)) as MatchWaiting;
    const second = (await match(legacy)) as MatchWaiting;
    expect(second.sessionId).not.toBe(first.sessionId);
    expect(await queueEntries(language)).toHaveLength(1);
    const stranger = (await match(newUser({ language }))) as MatchFound;
    expect(stranger.sessionId).toBe(second.sessionId);

    // Someone who only knows the userId cannot cancel a wait.
    const victim = newUser({ language: uniqueLanguage() });
    const victimWait = (await match(victim)) as MatchWaiting;
    await match({ ...victim, deviceId: "attacker-device" });
    expect(await match({ ...victim, ticket: victimWait.ticket })).toMatchObject({ matched: false, sessionId: victimWait.sessionId });
  });

  it("never lets a userId alone, or someone else's ticket, read a match", async () => {
    const language = uniqueLanguage();
    const alice = newUser({ language });
    const waiting = (await match(alice)) as MatchWaiting;
    const bobMatch = (await match(newUser({ language }))) as MatchFound;

    // Same userId, no ticket: a fresh search of one's own, never Alice's seat.
    const impostor = await match({ ...alice, deviceId: "someone-else", language });
    expect(impostor).not.toMatchObject({ sessionId: bobMatch.sessionId });
    // Someone else's ticket with a different userId is worthless.
    const thief = await match(newUser({ language, ticket: waiting.ticket }));
    expect(thief).not.toMatchObject({ sessionId: bobMatch.sessionId, matched: true });
  });

  it("never pairs a user with itself, by userId or by deviceId", async () => {
    const language = uniqueLanguage();
    const alice = newUser({ language });
    const waiting = (await match(alice)) as MatchWaiting;
    const sameUser = (await match({ ...alice, deviceId: "another-device" })) as MatchWaiting;
    expect(sameUser.matched).toBe(false);
    expect(((await match({ ...alice, ticket: waiting.ticket })) as MatchResponse).matched).toBe(false);
    expect(((await match({ ...alice, deviceId: "another-device", ticket: sameUser.ticket })) as MatchResponse).matched).toBe(false);

    const bobLanguage = uniqueLanguage();
    const bob = newUser({ language: bobLanguage });
    await match(bob);
    expect((await match(newUser({ language: bobLanguage, deviceId: bob.deviceId }))).matched).toBe(false);
  });

  it("never pairs different emotions or languages", async () => {
    const language = uniqueLanguage();
    const other = uniqueLanguage();
    const first = (await match(newUser({ language, emotion: "😊" }))) as MatchWaiting;
    expect((await match(newUser({ language, emotion: "😢" }))).matched).toBe(false);
    expect((await match(newUser({ language: other, emotion: "😊" }))).matched).toBe(false);
    expect((await match(newUser({ language: language.toUpperCase(), emotion: " 😊 " }))).matched).toBe(true);
    expect(first.queueKey).toBe(`any:😊:${language}`);
  });

  it("drops a waiter that goes silent for the window, and never matches it afterwards", async () => {
    const language = uniqueLanguage();
    const ghost = newUser({ language });
    const ghostWait = (await match(ghost)) as MatchWaiting;
    // The window is 5 s in tests (QUEUE_TTL_SECONDS); KV would keep the entry for 60 s.
    await sleep(5500);
    const late = (await match(newUser({ language }))) as MatchResponse;
    expect(late.matched).toBe(false);
    // The ghost's room refuses claims too, so a stale KV list cannot revive it.
    const room = env.CHAT_ROOM.get(env.CHAT_ROOM.idFromName(ghostWait.sessionId));
    expect(await room.claim({
        name: "x",
        user: "u",
        device: "d",
        origin: "http://x",
        avoid: [],
        criteria: { mode: "any", emotion: "any", language },
        anyLanguage: false,
        enqueuedAt: Date.now(),
      })).toMatchObject({ ok: false });
  });

  it("keeps a waiter matchable while it polls or holds its waiting socket", async () => {
    const language = uniqueLanguage();
    const poller = newUser({ language: `${language}p` });
    const pollerWait = (await match(poller)) as MatchWaiting;
    const holder = (await match(newUser({ language }))) as MatchWaiting;
    const socket = await connect(holder.wsUrl);
    await socket.next("welcome");
    for (let i = 0; i < 12; i++) {
      await sleep(500);
      await match({ ...poller, ticket: pollerWait.ticket });
    }
    // Both outlived the 5 s window.
    expect((await match(newUser({ language: `${language}p` }))).matched).toBe(true);
    expect((await match(newUser({ language }))).matched).toBe(true);
    await socket.next("paired");
  });

  it("pairs 200 concurrent users in one queue into exactly 100 consistent pairs", async () => {
    const language = uniqueLanguage();
    const users = Array.from({ length: 200 }, () => newUser({ language }));
    const results = new Map<string, MatchResponse>();
    await Promise.all(users.map(async (u) => results.set(u.userId, await match(u))));
    for (let round = 0; round < 40; round++) {
      const pending = users.filter((u) => !results.get(u.userId)!.matched);
      if (pending.length === 0) break;
      await Promise.all(
        pending.map(async (u) => {
          const previous = results.get(u.userId) as MatchWaiting;
          results.set(u.userId, await match({ ...u, ticket: previous.ticket }));
        }),
      );
    }
    const bySession = new Map<string, MatchFound[]>();
    for (const r of results.values()) {
      expect(r.matched).toBe(true);
      const m = r as MatchFound;
      bySession.set(m.sessionId, [...(bySession.get(m.sessionId) ?? []), m]);
    }
    expect(bySession.size).toBe(100);
    for (const [, pair] of bySession) {
      expect(pair).toHaveLength(2);
      // Each side's alias for its partner is the other's own alias, which the room confirms on connect.
      const [a, b] = await Promise.all(pair.map((m) => connect(m.wsUrl)));
      const [wa, wb] = await Promise.all([a.next("welcome"), b.next("welcome")]);
      expect(wa.partner!.id).toBe(wb.you.id);
      expect(wb.partner!.id).toBe(wa.you.id);
      expect(wa.you.id).not.toBe(wb.you.id);
      a.ws.close();
      b.ws.close();
    }
    expect(await queueEntries(language)).toEqual([]);
  });
});

describe("bad input", () => {
  it.each([
    ["not json", "{oops", 400, "invalid_json", /JSON/],
    ["an array", "[]", 400, "invalid_body", /object/i],
    ["no userId", JSON.stringify({ deviceId: "d" }), 400, "invalid_body", /^userId/],
    ["a numeric deviceId", JSON.stringify({ userId: "u", deviceId: 7 }), 400, "invalid_body", /^deviceId/],
    ["a blank userId", JSON.stringify({ userId: "  ", deviceId: "d" }), 400, "invalid_body", /^userId/],
    ["a long userName", JSON.stringify({ userId: "u", deviceId: "d", userName: "n".repeat(41) }), 400, "invalid_body", /^userName/],
    ["a long emotion", JSON.stringify({ userId: "u", deviceId: "d", emotion: "😊".repeat(20) }), 400, "invalid_body", /^emotion/],
    ["a malformed ticket", JSON.stringify({ userId: "u", deviceId: "d", ticket: "nope" }), 400, "invalid_body", /^ticket/],
    ["an oversized body", JSON.stringify({ userId: "u", deviceId: "d", pad: "x".repeat(5000) }), 413, "body_too_large", /bytes/],
  ])("rejects %s with a JSON error naming the problem", async (_name, body, status, code, message) => {
    const res = await postMatch(body);
    expect(res.status).toBe(status);
    const json = (await res.json()) as { success: boolean; error: { code: string; message: string } };
    expect(json.success).toBe(false);
    expect(json.error.code).toBe(code);
    expect(json.error.message).toMatch(message);
  });

  it("answers unknown routes and wrong methods with the same envelope", async () => {
    const { exports } = await import("cloudflare:workers");
    const notFound = await exports.default.fetch("http://chat.test/api/nope");
    expect(notFound.status).toBe(404);
    expect(await notFound.json()).toMatchObject({ success: false, error: { code: "not_found" } });
    const wrongMethod = await exports.default.fetch("http://chat.test/api/match");
    expect(wrongMethod.status).toBe(405);
    expect((await exports.default.fetch("http://chat.test/api/health")).status).toBe(200);
  });
});
