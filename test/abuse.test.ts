import { env, exports } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { CLOSE, type MatchFound, type MatchWaiting } from "../worker/protocol";
import { connect, match, newUser, pairUp, postMatch, uniqueLanguage, upgrade, waitUntil } from "./helpers";

const room = (sessionId: string) => env.CHAT_ROOM.get(env.CHAT_ROOM.idFromName(sessionId));

/** Makes a participant's sockets look silent since long ago, as if the tab had vanished without a close. */
async function silence(sessionId: string, alias: string) {
  await runInDurableObject(room(sessionId), (_instance, state) => {
    for (const ws of state.getWebSockets(alias)) {
      ws.serializeAttachment({ ...ws.deserializeAttachment(), connectedAt: Date.now() - 120_000 });
    }
  });
}

describe("rate limits", () => {
  it("throttles a flood of match requests from one device, not other devices", async () => {
    const language = uniqueLanguage();
    const flooder = newUser({ language });
    const statuses = await Promise.all(Array.from({ length: 150 }, () => postMatch(flooder)));
    const limited = statuses.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(statuses.every((r) => r.status === 200 || r.status === 429)).toBe(true);
    expect(limited[0].headers.get("Retry-After")).toBe("10");
    expect(await limited[0].json()).toMatchObject({ success: false, error: { code: "rate_limited", retryAfterSeconds: 10 } });

    expect((await postMatch(newUser({ language: uniqueLanguage() }))).status).toBe(200);
  });

  it("refuses a message flood frame by frame, delivers every accepted message, then cuts the flooder off", async () => {
    const { aliceMatch, bobMatch } = await pairUp();
    const alice = await connect(aliceMatch.wsUrl);
    const bob = await connect(bobMatch.wsUrl);
    await bob.next("welcome");
    for (let i = 0; i < 50; i++) alice.send({ type: "message", text: `flood ${i}`, clientId: `c${i}` });
    const answers = () => alice.frames.filter((f) => f.type === "message" || f.type === "error").length;
    await waitUntil(() => answers() === 50, 5000, "an answer to every flood frame");

    const accepted = alice.frames.filter((f) => f.type === "message").map((f) => (f as { text: string }).text);
    const refused = alice.frames.filter((f) => f.type === "error" && f.code === "rate_limited");
    // Each refusal names the message it refused, so a client can mark exactly that one unsent.
    const refusedIds = refused.map((f) => (f as { clientId?: string }).clientId);
    const acceptedIds = alice.frames.filter((f) => f.type === "message").map((f) => (f as { clientId?: string }).clientId);
    expect(new Set([...refusedIds, ...acceptedIds]).size).toBe(50);
    expect(accepted.length).toBeGreaterThanOrEqual(20);
    expect(accepted.length + refused.length).toBe(50);
    expect(alice.ws.readyState).toBe(WebSocket.OPEN);
    await waitUntil(() => bob.frames.filter((f) => f.type === "message").length === accepted.length);
    expect(bob.frames.filter((f) => f.type === "message").map((f) => (f as { text: string }).text)).toEqual(accepted);

    for (let i = 0; i < 50; i++) alice.send({ type: "message", text: `more ${i}` });
    expect((await alice.closed).code).toBe(CLOSE.flooding);
    const acknowledged = alice.frames.filter((f) => f.type === "message").map((f) => (f as { text: string }).text);
    const history = (await (await connect(bobMatch.wsUrl)).next("welcome")).history.map((m) => m.text);
    expect(history).toEqual(acknowledged.slice(-20));
  });

  it("cools down a client that reconnects in a loop, replacing its old socket each time", async () => {
    const { aliceMatch } = await pairUp();
    const first = await connect(aliceMatch.wsUrl);
    const results: number[] = [];
    for (let i = 0; i < 14; i++) {
      const res = await upgrade(aliceMatch.wsUrl);
      results.push(res.status);
      res.webSocket?.accept();
    }
    expect(results.slice(0, 9).every((s) => s === 101)).toBe(true);
    expect(results.slice(-3)).toEqual([429, 429, 429]);
    expect((await first.closed).code).toBe(CLOSE.replaced);
  });
});

describe("reports and bans", () => {
  it("bans a device reported past the threshold, and the reporter never meets it again", async () => {
    const offender = newUser({ userName: "Troll" });
    for (let i = 0; i < 3; i++) {
      const language = uniqueLanguage();
      const wait = (await match({ ...offender, language })) as MatchWaiting;
      const reporter = newUser({ language });
      const seat = (await match(reporter)) as MatchFound;
      expect(seat.sessionId).toBe(wait.sessionId);
      const socket = await connect(seat.wsUrl);
      socket.send({ type: "report", reason: "harassment" });
      expect(await socket.next("closed")).toMatchObject({ reason: "reported" });

      if (i === 0) {
        // The reporter and the offender share a queue again: they are never paired.
        const again = (await match({ ...offender, language })) as MatchWaiting;
        expect(again.matched).toBe(false);
        expect((await match(reporter)).matched).toBe(false);
        expect((await match(newUser({ language }))).matched).toBe(true);
      }
    }
    const refused = await postMatch({ ...offender, language: uniqueLanguage() });
    expect(refused.status).toBe(403);
    const body = (await refused.json()) as { error: { code: string; until: string } };
    expect(body.error.code).toBe("banned");
    expect(Date.parse(body.error.until)).toBeGreaterThan(Date.now() + 3600_000);
  });

  it("rejects a report with an unknown reason and keeps the chat", async () => {
    const { aliceMatch, bobMatch } = await pairUp();
    const alice = await connect(aliceMatch.wsUrl);
    const bob = await connect(bobMatch.wsUrl);
    alice.send({ type: "report", reason: "i do not like them" });
    expect((await alice.next("error")).message).toMatch(/reason/);
    alice.send({ type: "message", text: "still chatting" });
    expect(await bob.next("message")).toMatchObject({ text: "still chatting" });
  });
});

describe("no rematch", () => {
  it("after Next, 50 further attempts never pair the same two devices while a third user is available", async () => {
    const { alice, bob, aliceMatch } = await pairUp();
    const socket = await connect(aliceMatch.wsUrl);
    socket.send({ type: "leave" });
    await socket.closed;

    for (let attempt = 0; attempt < 50; attempt++) {
      const language = uniqueLanguage();
      const aliceWait = (await match({ ...alice, language })) as MatchWaiting;
      expect(aliceWait.matched).toBe(false);
      const bobTry = await match({ ...bob, language });
      expect(bobTry.matched).toBe(false);
      const carol = (await match(newUser({ language }))) as MatchFound;
      expect(carol.matched).toBe(true);
      expect([aliceWait.sessionId, (bobTry as MatchWaiting).sessionId]).toContain(carol.sessionId);
    }
  });
});

describe("presence without goodbyes", () => {
  it("shows a partner whose socket stopped answering as offline", async () => {
    const { aliceMatch, bobMatch } = await pairUp();
    const alice = await connect(aliceMatch.wsUrl);
    const bob = await connect(bobMatch.wsUrl);
    await alice.next("partner_joined");
    alice.send({ type: "ping" });
    await alice.next("pong");

    await silence(aliceMatch.sessionId, aliceMatch.partnerId);
    await runDurableObjectAlarm(room(aliceMatch.sessionId));
    expect(await alice.next("partner_offline")).toMatchObject({ partnerId: aliceMatch.partnerId });
    expect((await bob.closed).code).toBe(CLOSE.stale);
    expect(alice.ws.readyState).toBe(WebSocket.OPEN);
  });

  it("drops a waiting user whose socket went silent, so nobody is matched with it", async () => {
    const language = uniqueLanguage();
    const ghost = (await match(newUser({ language }))) as MatchWaiting;
    const socket = await connect(ghost.wsUrl);
    const { you } = await socket.next("welcome");
    await silence(ghost.sessionId, you.id);
    await runInDurableObject(room(ghost.sessionId), (instance) => {
      (instance as unknown as { meta: { ownerSeenAt: number } }).meta.ownerSeenAt -= 120_000;
    });
    await runDurableObjectAlarm(room(ghost.sessionId));
    expect((await match(newUser({ language }))).matched).toBe(false);
  });
});

describe("origins and names", () => {
  it("allows CORS only for the page's origin and ALLOWED_ORIGINS", async () => {
    const preflight = (origin: string) =>
      exports.default.fetch("http://chat.test/api/match", {
        method: "OPTIONS",
        headers: { Origin: origin, "Access-Control-Request-Method": "POST" },
      });
    expect((await preflight("https://app.example")).headers.get("Access-Control-Allow-Origin")).toBe("https://app.example");
    expect((await preflight("http://chat.test")).headers.get("Access-Control-Allow-Origin")).toBe("http://chat.test");
    expect((await preflight("https://evil.example")).headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("refuses a WebSocket from a foreign origin before the upgrade", async () => {
    const { aliceMatch } = await pairUp();
    const res = await upgrade(aliceMatch.wsUrl, { Upgrade: "websocket", Origin: "https://evil.example" });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: "origin_not_allowed" } });
    expect((await upgrade(aliceMatch.wsUrl, { Upgrade: "websocket", Origin: "https://app.example" })).status).toBe(101);
  });

  it("strips control characters from names and normalises criteria", async () => {
    const language = uniqueLanguage();
    await match(newUser({ language: ` ${language.toUpperCase()} `, userName: "A\u0000li\u202Ece\u200B" }));
    const seat = (await match(newUser({ language }))) as MatchFound;
    expect(seat.partnerName).toBe("Alice");
  });
});
