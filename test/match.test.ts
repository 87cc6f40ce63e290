import { runDurableObjectAlarm, runInDurableObject, SELF } from "cloudflare:test";
import {
  CLOSE,
  type MatchFound,
  type MatchRequest,
  type MatchResponse,
  type Pairing,
  waitUrl,
} from "@strangers/protocol";
import { describe, expect, it } from "vitest";
import type { Lobby } from "../worker/matching/lobby";
import {
  connect,
  lobbyOf,
  match,
  matched,
  newUser,
  postMatch,
  roomOf,
  seatOf,
  sleep,
  ticketToken,
  timePasses,
  uniqueMode,
  upgrade,
  wait,
  waitingIn,
  waitOnSocket,
  waitUntil,
} from "./helpers";

// In tests a wait lives 5 s without a sign of life, a poll counts as presence for 3.5 s (two
// 1.25 s poll intervals and a second of slack), and both must join a chat within 3 s (vitest.config.ts).
// Nobody waits for these: the tests make the time pass for the lobby or room (timePasses).
const POLL_PRESENCE_MS = 3500;
const CONNECT_WINDOW_MS = 3000;

describe("POST /api/match", () => {
  it("queues the first user and pairs the second at once, and the first hears of it on its next poll", async () => {
    const mode = uniqueMode();
    const alice = newUser({ mode, userName: "Alice" });
    const bob = newUser({ mode, userName: "Bob" });

    const waiting = await wait(alice);
    expect(waiting).toMatchObject({
      success: true,
      matched: false,
      queueKey: `${mode}:any:any`,
      pollAfterMs: 1250,
      expiresInMs: 5000,
    });
    expect(waiting.wsUrl).toBe(waitUrl("http://chat.test", `${mode}/any`, seatOf(waiting.ticket)));

    const bobMatch = await matched(bob);
    expect(bobMatch).toMatchObject({ success: true, matched: true, partnerName: "Alice", relaxed: [] });
    expect(bobMatch.wsUrl).toBe(`ws://chat.test/chat?sessionId=${bobMatch.sessionId}`);
    const aliceMatch = (await match({ ...alice, ticket: waiting.ticket })) as MatchFound;
    expect(aliceMatch).toMatchObject({ matched: true, partnerName: "Bob", sessionId: bobMatch.sessionId });

    // Each side has its own secret token, no URL carries one, and the aliases reveal nothing.
    expect(aliceMatch.token).not.toBe(bobMatch.token);
    for (const url of [waiting.wsUrl, aliceMatch.wsUrl, bobMatch.wsUrl]) expect(url).not.toMatch(/token|ticket/);
    for (const alias of [aliceMatch.partnerId, bobMatch.partnerId]) {
      for (const secret of [alice.userId, alice.deviceId, bob.userId, bob.deviceId])
        expect(secret).not.toContain(alias);
    }
    expect(JSON.stringify([aliceMatch, bobMatch])).not.toMatch(/user-|device-/);
    expect(await waitingIn(mode)).toEqual([]);
    // Both can join their chat: the room was opened alongside.
    const chats = await Promise.all([
      connect(aliceMatch.wsUrl, aliceMatch.token),
      connect(bobMatch.wsUrl, bobMatch.token),
    ]);
    for (const chat of chats) expect(await chat.next("welcome")).toMatchObject({ sessionId: bobMatch.sessionId });
  });

  it("builds wss: URLs for https origins", async () => {
    const { exports } = await import("cloudflare:workers");
    const https = await exports.default.fetch("https://chat.example/api/match", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(newUser({ mode: uniqueMode() })),
    });
    expect(((await https.json()) as { wsUrl: string }).wsUrl).toMatch(/^wss:\/\/chat\.example\/wait\?lobby=/);
  });

  it("is idempotent while polling: one queue entry, and the same match once paired", async () => {
    const mode = uniqueMode();
    const alice = newUser({ mode });
    const first = await wait(alice);
    for (let i = 0; i < 5; i++) {
      expect(await match({ ...alice, ticket: first.ticket })).toMatchObject({ matched: false, ticket: first.ticket });
    }
    expect(await waitingIn(mode)).toEqual([seatOf(first.ticket)]);

    const bobMatch = await matched(newUser({ mode }));
    const aliceMatch = await match({ ...alice, ticket: first.ticket });
    expect(aliceMatch).toMatchObject({ matched: true, sessionId: bobMatch.sessionId });
    expect(await match({ ...alice, ticket: first.ticket })).toEqual(aliceMatch);
  });

  it("replaces the wait of a client that searches again without its ticket, instead of queueing it twice", async () => {
    const mode = uniqueMode();
    const legacy = newUser({ mode });
    await wait(legacy);
    const second = await wait(legacy);
    expect(await waitingIn(mode)).toEqual([seatOf(second.ticket)]);

    // Two searches at once (a double tap): the later one stands, and the earlier one, replaced
    // while its answer was still held, is told so, not asked to retry and replace it in turn.
    const [tapped, again] = await Promise.all([postMatch(legacy), sleep(50).then(() => postMatch(legacy))]);
    expect(tapped.status).toBe(409);
    expect(await tapped.json()).toMatchObject({ success: false, error: { code: "search_replaced" } });
    const standing = (await again.json()) as MatchResponse;
    expect(await waitingIn(mode)).toEqual([seatOf((standing as { ticket: string }).ticket)]);

    // Someone who only knows the userId cannot cancel a wait.
    const victim = newUser({ mode: uniqueMode() });
    const victimWait = await wait(victim);
    await match({ ...victim, deviceId: "attacker-device" });
    expect(await match({ ...victim, ticket: victimWait.ticket })).toMatchObject({
      matched: false,
      ticket: victimWait.ticket,
    });
  });

  it("ends the wait a client still holds when it finds a stranger as a newcomer, so it is never paired twice", async () => {
    const user = newUser({ mode: uniqueMode() });
    const earlier = await wait(user);
    expect(await waitingIn(user.mode!)).toEqual([seatOf(earlier.ticket)]);
    const elsewhere = uniqueMode();
    await wait(newUser({ mode: elsewhere }));
    await matched({ ...user, mode: elsewhere });
    await waitUntil(async () => (await waitingIn(user.mode!)).length === 0, 2000, "the earlier wait to end");
  });

  it("never lets a userId alone, or someone else's ticket, read a match", async () => {
    const mode = uniqueMode();
    const alice = newUser({ mode });
    const waiting = await wait(alice);
    const bobMatch = await matched(newUser({ mode }));

    // Same userId, no ticket: a fresh search of one's own, never Alice's chat.
    expect(await match({ ...alice, deviceId: "someone-else" })).not.toMatchObject({ sessionId: bobMatch.sessionId });
    // Someone else's ticket with a different userId is worthless.
    expect(await match(newUser({ mode, ticket: waiting.ticket }))).not.toMatchObject({ sessionId: bobMatch.sessionId });
    // And the ticket's token opens no other socket than the wait's own.
    const thief = await connect(
      waiting.wsUrl.replace(seatOf(waiting.ticket), "someoneelsesseat00"),
      ticketToken(waiting.ticket),
    ).catch((e) => e);
    expect(String(thief)).toMatch(/404/);
    // Nor can a URL name an object the service would not: a pool, a made-up queue, another spelling.
    for (const lobby of [`${mode}/*`, `${mode}/any/x/y`, `${mode.toUpperCase()}/any`, "../x", `${mode}/english`]) {
      const url = new URL(waiting.wsUrl);
      url.searchParams.set("lobby", lobby);
      const res = await upgrade(url.toString());
      expect(res.status, lobby).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: "invalid_query" } });
    }
  });

  it("never pairs a user with itself, by userId or by deviceId", async () => {
    const mode = uniqueMode();
    const alice = newUser({ mode });
    const waiting = await wait(alice);
    const sameUser = await wait({ ...alice, deviceId: "another-device" });
    expect((await match({ ...alice, ticket: waiting.ticket })).matched).toBe(false);
    expect((await match({ ...alice, deviceId: "another-device", ticket: sameUser.ticket })).matched).toBe(false);

    const bobMode = uniqueMode();
    const bob = newUser({ mode: bobMode });
    await wait(bob);
    expect((await match(newUser({ mode: bobMode, deviceId: bob.deviceId }))).matched).toBe(false);
  });

  it("never pairs different emotions or languages, and folds case, spacing and variation selectors", async () => {
    const mode = uniqueMode();
    const first = await wait(newUser({ mode, language: "pt-BR", emotion: "☺️" }));
    expect(first.queueKey).toBe(`${mode}:☺:pt`);
    expect((await match(newUser({ mode, language: "pt", emotion: "😢" }))).matched).toBe(false);
    expect((await match(newUser({ mode, language: "es", emotion: "☺" }))).matched).toBe(false);
    expect((await match(newUser({ mode: uniqueMode(), language: "pt", emotion: "☺" }))).matched).toBe(false);
    // Another region, another case, a text-style selector and spaces: the same queue.
    expect((await match(newUser({ mode: mode.toUpperCase(), language: "PT_pt", emotion: " ☺\uFE0E " }))).matched).toBe(
      true,
    );
  });
});

describe("languages by name", () => {
  it("takes a language's name as well as its tag, as the first clients sent it, and names examples when it knows neither", async () => {
    const mode = uniqueMode();
    const names = [
      ["English", "en"],
      ["english", "en"],
      ["Español", "es"],
      ["espanol", "es"],
      ["日本語", "ja"],
      ["Português (Brasil)", "pt"],
      ["Deutsch", "de"],
      ["हिन्दी", "hi"],
      ["العربية", "ar"],
      ["pt-BR", "pt"],
      ["eng", "en"],
      ["Lao", "lo"],
      ["Ewe", "ee"],
      ["tl", "fil"],
      ["Filipino", "fil"],
    ];
    // Each in a queue of its own, all at once (every answer is held a moment when nobody is there).
    const waits = await Promise.all(names.map(([language]) => wait(newUser({ mode: uniqueMode(), language }))));
    names.forEach(([language, tag], i) => {
      expect(waits[i].queueKey, language).toMatch(new RegExp(`:${tag}$`));
    });
    // The seed's body: a name on one side, a tag on the other, and they pair.
    await wait(newUser({ mode, language: "English", emotion: "😊" }));
    expect((await match(newUser({ mode, language: "en", emotion: "😊" }))).matched).toBe(true);
    const res = await postMatch(newUser({ mode, language: "Klingonese" }));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: { code: "invalid_body", message: expect.stringMatching(/^language: .*en or pt-BR.*English/) },
    });
  });
});

describe("presence", () => {
  it("does not offer a waiter who neither polled for two poll intervals nor holds its socket", async () => {
    const mode = uniqueMode();
    const ghost = newUser({ mode });
    const ghostWait = await wait(ghost);
    await timePasses(POLL_PRESENCE_MS + 300, lobbyOf(mode));
    const newcomer = newUser({ mode });
    const newcomerWait = await wait(newcomer);

    // Back within the wait window, the ghost is present again and keeps its place: the two meet,
    // whichever poll the lobby reads first.
    const [a, b] = await Promise.all([
      match({ ...ghost, ticket: ghostWait.ticket }),
      match({ ...newcomer, ticket: newcomerWait.ticket }),
    ]);
    expect(a.matched || b.matched).toBe(true);
  });

  it("drops a waiter silent for the whole window, and never matches it afterwards", async () => {
    const mode = uniqueMode();
    const ghost = newUser({ mode });
    const ghostWait = await wait(ghost);
    const lobby = lobbyOf(mode);
    await timePasses(5500, lobby);
    expect((await match(newUser({ mode }))).matched).toBe(false);
    // Its alarm ends it: the lobby forgot it, and its ticket starts afresh.
    await runDurableObjectAlarm(lobby);
    expect(await runInDurableObject(lobby, (l: Lobby) => l.get(seatOf(ghostWait.ticket)))).toBeUndefined();
    const again = await match({ ...ghost, ticket: ghostWait.ticket });
    expect(again.matched ? "" : again.ticket).not.toBe(ghostWait.ticket);
  });

  it("keeps a waiter offered while it polls, or while its socket answers pings", async () => {
    const mode = uniqueMode();
    const poller = newUser({ mode: `${mode}p` });
    const pollerWait = await wait(poller);
    const { socket } = await waitOnSocket(newUser({ mode }));
    const lobbies = [lobbyOf(`${mode}p`), lobbyOf(mode)];
    for (let i = 0; i < 12; i++) {
      await timePasses(500, ...lobbies);
      await match({ ...poller, ticket: pollerWait.ticket });
    }
    // Both outlived the 5 s window and two poll intervals, and their alarms find them there. Six
    // seconds passed for the socket's connection and hello as well: only its pings (its last one
    // just now, as it pings all along) can keep it offered.
    for (const lobby of lobbies) await runDurableObjectAlarm(lobby);
    expect((await match(newUser({ mode: `${mode}p` }))).matched).toBe(true);
    await matched(newUser({ mode }));
    await socket.next("matched");
  });

  it("gives the waiter back its place when the stranger never joins, and the next newcomer gets them", async () => {
    const mode = uniqueMode();
    const alice = newUser({ mode, userName: "Alice" });
    const { waiting, socket } = await waitOnSocket(alice);
    const noShow = await matched(newUser({ mode, userName: "Ghost" }));
    // Alice hears at once and joins, as the page does; the ghost never comes.
    const told = await socket.next("matched");
    expect(told).toMatchObject({ sessionId: noShow.sessionId, partnerName: "Ghost" });
    const aliceChat = await connect(told.wsUrl, told.token);
    await aliceChat.next("welcome");
    // Someone else arrives meanwhile, on another tab of Alice's device so the two never meet: behind her.
    await waitOnSocket({ ...newUser({ mode, userName: "Later" }), deviceId: alice.deviceId });
    // The connect window passes, and the room's alarm finds the ghost never came.
    await timePasses(CONNECT_WINDOW_MS, roomOf(noShow.sessionId));
    await runDurableObjectAlarm(roomOf(noShow.sessionId));
    expect(await aliceChat.next("closed")).toMatchObject({ reason: "partner_missing" });

    // Back on her waiting socket with her ticket: she waits again, at her place.
    const back = await connect(waiting.wsUrl, ticketToken(waiting.ticket));
    expect(await back.next("waiting")).toMatchObject({ queueKey: `${mode}:any:any` });
    expect(await waitingIn(mode)).toEqual([seatOf(waiting.ticket), expect.any(String)]);
    const carol = await matched(newUser({ mode, userName: "Carol" }));
    expect(carol.partnerName).toBe("Alice");
    expect(await back.next("matched")).toMatchObject({ sessionId: carol.sessionId });

    // The ghost's late connection finds nothing to join.
    const late = await upgrade(noShow.wsUrl);
    if (late.status === 101) {
      const lateChat = await connect(noShow.wsUrl, noShow.token);
      expect((await lateChat.closed).code).toBe(CLOSE.ended);
    } else {
      expect([404, 410]).toContain(late.status);
    }
  });

  it("tells a waiter whose socket dropped on its next poll", async () => {
    const mode = uniqueMode();
    const alice = newUser({ mode });
    const { waiting, socket } = await waitOnSocket(alice);
    socket.ws.close();
    await socket.closed;
    const bob = await matched(newUser({ mode }));
    expect(await match({ ...alice, ticket: waiting.ticket })).toMatchObject({
      matched: true,
      sessionId: bob.sessionId,
    });
  });

  it("gives one waiter to one of two newcomers racing for it; the other waits", async () => {
    const mode = uniqueMode();
    await waitOnSocket(newUser({ mode, userName: "Waiter" }));
    const answers = await Promise.all([match(newUser({ mode })), match(newUser({ mode }))]);
    expect(answers.filter((a) => a.matched)).toHaveLength(1);
    expect(answers.filter((a) => !a.matched)).toHaveLength(1);
  });

  it("pairs 200 concurrent users in one queue into exactly 100 consistent pairs", async () => {
    const mode = uniqueMode();
    const users = Array.from({ length: 200 }, () => newUser({ mode }));
    // Each behaves like the web page: a matched user joins its chat; a waiting one waits on its socket, then joins.
    const chats = await Promise.all(users.map((u) => joinChat(u)));
    const bySession = new Map<string, typeof chats>();
    for (const c of chats) bySession.set(c.sessionId, [...(bySession.get(c.sessionId) ?? []), c]);
    expect(bySession.size).toBe(100);
    for (const [, pair] of bySession) {
      expect(pair).toHaveLength(2);
      const [a, b] = pair;
      // Each side's alias for its partner is the other's own alias, as the room says on connect.
      expect(a.welcome.partner.id).toBe(b.welcome.you.id);
      expect(b.welcome.partner.id).toBe(a.welcome.you.id);
      expect(a.welcome.you.id).not.toBe(b.welcome.you.id);
    }
    expect(await waitingIn(mode)).toEqual([]);
  }, 90_000);
});

/**
 * Like the web page: a matched user joins its chat; a waiting one waits on its socket, then
 * joins. A pairing can fall through before the chat begins (under load someone may join after
 * the connect window): then the user searches again.
 */
async function joinChat(user: MatchRequest) {
  for (let attempt = 0; attempt < 5; attempt++) {
    const first: MatchResponse = await match(user);
    const pairing: Pairing = first.matched
      ? first
      : await (await connect(first.wsUrl, ticketToken(first.ticket))).next("matched", 20_000);
    const chat = await connect(pairing.wsUrl, pairing.token);
    const welcome = await Promise.race([chat.next("welcome", 30_000), chat.closed.then(() => null)]);
    if (welcome) return { sessionId: pairing.sessionId, welcome };
    // The chat closed before it began: the pairing fell through (a late claim); search again.
  }
  throw new Error("no chat after five searches");
}

describe("bad input", () => {
  it.each([
    ["not json", "{oops", 400, "invalid_json", /JSON/],
    ["an array", "[]", 400, "invalid_body", /object/i],
    ["no userId", JSON.stringify({ deviceId: "d" }), 400, "invalid_body", /^userId/],
    ["a numeric deviceId", JSON.stringify({ userId: "u", deviceId: 7 }), 400, "invalid_body", /^deviceId/],
    ["a blank userId", JSON.stringify({ userId: "  ", deviceId: "d" }), 400, "invalid_body", /^userId/],
    [
      "a long userName",
      JSON.stringify({ userId: "u", deviceId: "d", userName: "n".repeat(41) }),
      400,
      "invalid_body",
      /^userName/,
    ],
    [
      "a long emotion",
      JSON.stringify({ userId: "u", deviceId: "d", emotion: "😊".repeat(20) }),
      400,
      "invalid_body",
      /^emotion/,
    ],
    [
      "a malformed ticket",
      JSON.stringify({ userId: "u", deviceId: "d", ticket: "nope" }),
      400,
      "invalid_body",
      /^ticket/,
    ],
    [
      "an oversized body",
      JSON.stringify({ userId: "u", deviceId: "d", pad: "x".repeat(5000) }),
      413,
      "body_too_large",
      /bytes/,
    ],
  ])("rejects %s with a JSON error naming the problem", async (_name, body, status, code, message) => {
    const res = await postMatch(body);
    expect(res.status).toBe(status);
    const json = (await res.json()) as { success: boolean; error: { code: string; message: string } };
    expect(json.success).toBe(false);
    expect(json.error.code).toBe(code);
    expect(json.error.message).toMatch(message);
  });

  it("reads a body sent without a length only up to the limit, and a body cut short is a 400, never a 500", async () => {
    const streamed = (chunks: string[]) =>
      SELF.fetch("https://chat.example/api/match", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: new ReadableStream({
          start(c) {
            for (const chunk of chunks) c.enqueue(new TextEncoder().encode(chunk));
            c.close();
          },
        }),
      });
    const user = JSON.stringify(newUser({ mode: uniqueMode() }));
    expect((await streamed([user.slice(0, 10), user.slice(10)])).status).toBe(200);
    const endless = await streamed(Array.from({ length: 8 }, () => " ".repeat(1024)));
    expect(endless.status).toBe(413);
    expect(await endless.json()).toMatchObject({ error: { code: "body_too_large" } });
    const cut = await streamed([user.slice(0, 10)]);
    expect(cut.status).toBe(400);
    expect(await cut.json()).toMatchObject({ error: { code: "invalid_json" } });
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
