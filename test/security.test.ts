/**
 * Each attack the review and the black-box probes found, failing: one test per item of the
 * README's security table. Rate-limit windows are fixed 10 s windows, so counting tests send
 * enough to cross at most one boundary and still see refusals.
 */

import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { CLOSE } from "@strangers/protocol";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Lobby } from "../worker/matching/lobby";
import { networkKey, networkOf } from "../worker/trust/client-address";
import { fingerprint } from "../worker/trust/identity";
import {
  connect,
  lobbyOf,
  match,
  matched,
  newUser,
  pairUp,
  postMatch,
  seatOf,
  ticketToken,
  timePasses,
  uniqueMode,
  untilClosed,
  upgrade,
  vouchFor,
  wait,
  waitingIn,
  waitOnSocket,
  waitUntil,
  windows,
} from "./helpers";

afterEach(() => vi.restoreAllMocks());

describe("a foreign web page", () => {
  it("cannot enqueue its visitors: a form-style POST is refused before anything happens", async () => {
    const mode = uniqueMode();
    const simple = { "Content-Type": "text/plain" };
    const foreign = await postMatch(newUser({ mode }), { headers: { ...simple, Origin: "https://evil.example" } });
    expect(foreign.status).toBe(403);
    expect(await foreign.json()).toMatchObject({ error: { code: "origin_not_allowed" } });
    const textPlain = await postMatch(newUser({ mode }), { headers: simple });
    expect(textPlain.status).toBe(415);
    expect(await textPlain.json()).toMatchObject({ error: { code: "unsupported_media_type" } });
    // Even as JSON, the foreign origin is refused on every method.
    expect((await postMatch(newUser({ mode }), { headers: { Origin: "https://evil.example" } })).status).toBe(403);
    expect(
      (await exports.default.fetch("http://chat.test/api/stats", { headers: { Origin: "https://evil.example" } }))
        .status,
    ).toBe(403);
    expect(await waitingIn(mode)).toEqual([]);
    // The page's own origin and the allowed ones work.
    expect((await postMatch(newUser({ mode }), { headers: { Origin: "https://app.example" } })).status).toBe(200);
  });
});

describe("junk frames", () => {
  it("are charged to the sender's budget before parsing: refused, then the socket is cut off like a flood", async () => {
    const { aliceChat: alice, bobChat: bob } = await pairUp();
    for (let i = 0; i < 400; i++) alice.send("x");
    const { code, frames } = await untilClosed(alice);
    expect(code).toBe(CLOSE.flooding);
    const errors = frames.filter((f) => f.type === "error");
    // Parsed (and answered "invalid_frame") only within the burst; then refused unread.
    expect(errors.filter((f) => f.code === "invalid_frame").length).toBeLessThanOrEqual(20);
    expect(errors.filter((f) => f.code === "rate_limited").length).toBeGreaterThan(0);
    expect(errors.length).toBeLessThan(100);
    // The partner is untouched.
    bob.send({ type: "message", text: "still fine" });
    expect(await bob.next("message")).toMatchObject({ text: "still fine" });
  });

  it("count whatever they are: a ping spelled differently from the runtime's, or binary", async () => {
    const { aliceChat: alice } = await pairUp();
    // A burst of 20, then 40 refusals tolerated: 80 frames are past both.
    for (let i = 0; i < 40; i++) alice.send('{ "type": "ping" }');
    for (let i = 0; i < 40; i++) alice.ws.send(new Uint8Array([1]));
    expect((await untilClosed(alice)).code).toBe(CLOSE.flooding);
  });

  it("from a socket that never said hello are cut off too", async () => {
    const { bobMatch } = await pairUp();
    const stranger = await connect(bobMatch.wsUrl, null, { hello: false });
    for (let i = 0; i < 100; i++) stranger.send('{"type":"message","text":"hi"}');
    expect([CLOSE.unauthorized, CLOSE.flooding]).toContain((await untilClosed(stranger)).code);
  });
});

describe("waiting sockets that never say who they are", () => {
  it("are closed after the heartbeat timeout, however they ping", async () => {
    const mode = uniqueMode();
    const waiting = await wait(newUser({ mode }));
    const silent = await connect(waiting.wsUrl, null, { hello: false });
    // The timeout (4 s in tests) passes since it connected, but not since its ping: the lobby's alarm closes it all the same.
    await silent.ping();
    const lobby = lobbyOf(mode);
    await timePasses(windows.heartbeatTimeoutMs + 100, lobby);
    await runDurableObjectAlarm(lobby);
    // That alarm closed it, not a later one once the ping too is old.
    const open = (_lobby: Lobby, state: DurableObjectState) =>
      state.getWebSockets().filter((ws) => ws.readyState === WebSocket.OPEN).length;
    expect(await runInDurableObject(lobby, open)).toBe(0);
    expect((await silent.closed).code).toBe(CLOSE.unauthorized);
  });
});

describe("text that is not text", () => {
  it.each([
    ["language", '{"userId":"u1","deviceId":"d1","language":"\\ud800"}'],
    ["emotion", '{"userId":"u1","deviceId":"d1","emotion":"\\udc00x"}'],
    ["userName", '{"userId":"u1","deviceId":"d1","userName":"a\\ud83d"}'],
    ["userId", '{"userId":"\\ud800","deviceId":"d1"}'],
    ["userName", '{"userId":"u1","deviceId":"d1","userName":"tab\\tname"}'],
    ["userName", '{"userId":"u1","deviceId":"d1","userName":"Ali\\u202ece"}'],
    ["language", '{"userId":"u1","deviceId":"d1","language":"!!"}'],
    ["mode", '{"userId":"u1","deviceId":"d1","mode":"a b"}'],
  ])("is a 400 naming %s, never a 500", async (field, body) => {
    const res = await postMatch(body);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: { code: "invalid_body", message: expect.stringMatching(new RegExp(`^${field}`)) },
    });
  });

  it("keeps what real names and feelings need: joiners in emoji sequences and scripts", async () => {
    const mode = uniqueMode();
    await wait(newUser({ mode, emotion: "👩‍💻", userName: "मैं‌ हूँ" }));
    const seat = await matched(newUser({ mode, emotion: "👩‍💻" }));
    expect(seat.partnerName).toBe("मैं‌ हूँ");
  });
});

describe("limits key on what an attacker cannot choose", () => {
  it("counts an IPv6 address by its /64 and an IPv4 address whole", () => {
    expect(networkOf("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(networkOf("2001:DB8:1:2:ffff:ffff:ffff:ffff")).toBe("2001:db8:1:2::/64");
    expect(networkOf("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(networkOf("::ffff:203.0.113.9")).toBe("203.0.113.9");
    expect(networkOf("203.0.113.9")).toBe("203.0.113.9");
  });

  it("exempts a missing or loopback address only in local development, and never silently", () => {
    const request = (ip?: string) => new Request("http://x/", { headers: ip ? { "CF-Connecting-IP": ip } : {} });
    expect(networkKey(request(), { LOCAL_DEVELOPMENT: "true" })).toBeNull();
    expect(networkKey(request("127.0.0.1"), { LOCAL_DEVELOPMENT: "true" })).toBeNull();
    expect(networkKey(request(), { LOCAL_DEVELOPMENT: "false" })).toBe("no-address");
    expect(networkKey(request("127.0.0.1"), { LOCAL_DEVELOPMENT: "false" })).toBe("127.0.0.1");
  });

  it("gives one /64 one match budget, however many addresses it rotates through", async () => {
    const mode = uniqueMode();
    const statuses: number[] = [];
    // 120 per 10 s in fixed windows: 260 requests from one /64, sent 20 at a time so they
    // fit in a few seconds, cross at most one boundary.
    for (let i = 0; i < 260; i += 20) {
      const batch = Array.from({ length: 20 }, (_, j) =>
        postMatch(newUser({ mode }), { headers: { "CF-Connecting-IP": `2001:db8:77:1::${(i + j + 1).toString(16)}` } }),
      );
      for (const res of await Promise.all(batch)) statuses.push(res.status);
    }
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(20);
    expect((await postMatch(newUser({ mode }), { headers: { "CF-Connecting-IP": "2001:db8:77:2::1" } })).status).toBe(
      200,
    );
  });

  it("limits socket upgrades per address, and a wrong token costs ten of them", async () => {
    const { bobMatch } = await pairUp();
    const attacker = { "CF-Connecting-IP": "203.0.113.66" };
    // Three guesses: each refused, each charged ten upgrades.
    for (let i = 0; i < 3; i++) {
      const guess = await connect(bobMatch.wsUrl, "guess".repeat(8), { headers: attacker });
      expect((await untilClosed(guess)).code).toBe(CLOSE.unauthorized);
    }
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await upgrade(bobMatch.wsUrl, { Upgrade: "websocket", ...attacker })).status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    // Someone else is not affected.
    expect((await upgrade(bobMatch.wsUrl, { Upgrade: "websocket", "CF-Connecting-IP": "203.0.113.67" })).status).toBe(
      101,
    );
  });
});

describe("secrets stay out of URLs and logs", () => {
  it("never puts a ticket or token in a URL, and never logs one", async () => {
    const lines: string[] = [];
    for (const level of ["log", "warn", "error"] as const) {
      const original = console[level].bind(console);
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        lines.push(args.map(String).join(" "));
        original(...args);
      });
    }
    const mode = uniqueMode();
    const { waiting, socket } = await waitOnSocket(newUser({ mode }));
    const seat = await matched(newUser({ mode }));
    const chat = await connect(seat.wsUrl, seat.token);
    await chat.next("welcome");
    const told = await socket.next("matched");
    await (await connect(told.wsUrl, told.token)).next("welcome");
    chat.send({ type: "leave" });
    await chat.closed;
    for (const url of [waiting.wsUrl, seat.wsUrl, told.wsUrl]) expect(url).not.toMatch(/token|ticket/);
    expect(lines.length).toBeGreaterThan(0);
    for (const secret of [ticketToken(waiting.ticket), seat.token, told.token]) {
      expect(lines.filter((l) => l.includes(secret))).toEqual([]);
    }
  });
});

describe("queues cannot be split or starved", () => {
  it("lets many waits in another language cost the any-language search nothing", async () => {
    const mode = uniqueMode();
    // Waits that never widen, in a language that sorts first (of one device, so they never pair among themselves).
    const deviceId = crypto.randomUUID();
    await Promise.all(Array.from({ length: 100 }, () => wait(newUser({ mode, language: "aa", deviceId }))));
    const ana = newUser({ mode, language: "es", anyLanguage: true, userName: "Ana" });
    const ben = newUser({ mode, language: "de", anyLanguage: true });
    const anaWait = await wait(ana);
    const benWait = await wait(ben);
    // Past the any-language threshold, their polls lend them to the pool, which pairs them.
    await timePasses(windows.languageAfterMs, lobbyOf(mode, "es"), lobbyOf(mode, "de"));
    await waitUntil(
      async () => {
        const [a, b] = await Promise.all([
          match({ ...ana, ticket: anaWait.ticket }),
          match({ ...ben, ticket: benWait.ticket }),
        ]);
        return a.matched || b.matched;
      },
      5000,
      "the two to be paired",
    );
  }, 60_000);
});

describe("fingerprints", () => {
  it("are keyed HMACs: knowing a raw id is not enough to compute one", async () => {
    const id = "device-known-to-an-attacker";
    const sha256 = [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(id)))]
      .map((b) => b.toString(16).padStart(2, "0"))
      .join("");
    const ours = await fingerprint(env, id);
    expect(sha256.startsWith(ours)).toBe(false);
    expect(ours).not.toBe(await fingerprint({ FINGERPRINT_SECRET: "another secret" }, id));
    expect(ours).toBe(await fingerprint(env, id));
    await expect(fingerprint({}, id)).rejects.toThrow(/FINGERPRINT_SECRET/);
    // What is stored is the HMAC.
    const mode = uniqueMode();
    const user = newUser({ mode, deviceId: id });
    const waiting = await wait(user);
    const held = await runInDurableObject(lobbyOf(mode), (lobby: Lobby) => lobby.get(seatOf(waiting.ticket)));
    expect(held?.owner.device).toBe(ours);
    expect(JSON.stringify(held)).not.toContain(id);
  });
});

describe("a ban", () => {
  it("also ends the banned device's open wait and chat", async () => {
    const troll = newUser({ userName: "Troll" });
    let networks = 0;
    /** Troll waits on its socket; a vouched stranger on a network of its own is paired with it; both join, and Troll speaks. */
    const chatWithTroll = async () => {
      const mode = uniqueMode();
      const other = newUser();
      await vouchFor(other);
      const { socket } = await waitOnSocket({ ...troll, mode });
      const seat = await matched({ ...other, mode }, { from: `198.51.100.${++networks}` });
      const theirs = await connect(seat.wsUrl, seat.token);
      await theirs.next("welcome");
      const told = await socket.next("matched");
      const trolls = await connect(told.wsUrl, told.token);
      await trolls.next("welcome");
      trolls.send({ type: "message", text: "hi" });
      await theirs.next("message");
      return { theirs, trolls };
    };
    const report = async (c: Awaited<ReturnType<typeof chatWithTroll>>) => {
      c.theirs.send({ type: "report", reason: "harassment" });
      await c.theirs.next("closed");
    };
    await report(await chatWithTroll());
    await report(await chatWithTroll());
    const third = await chatWithTroll();
    const open = await chatWithTroll();
    const openWait = await waitOnSocket({ ...troll, mode: uniqueMode() });
    await report(third);

    expect(await open.theirs.next("closed")).toMatchObject({ reason: "banned" });
    expect((await open.trolls.closed).code).toBe(CLOSE.ended);
    expect(await openWait.socket.next("closed")).toMatchObject({ reason: "banned" });
    expect((await postMatch({ ...troll, mode: uniqueMode() })).status).toBe(403);
  });
});

describe("the KV copy of a queue", () => {
  /** Past a sixth of the wait window (5 s / 6 in tests): a wait that lasts that long is written. */
  const WRITTEN_AFTER_MS = 1_000;
  const keysOf = async (mode: string) => (await env.QUEUE.list({ prefix: `q/${mode}/` })).keys;

  it("is written by the lobby alone, once per wait that lasts, keyed by emotion and language, with fingerprints only", async () => {
    const mode = uniqueMode();
    // Paired at once: nothing is ever written.
    await wait(newUser({ mode, emotion: "😊", language: "pt-BR" }));
    await matched(newUser({ mode, emotion: "😊", language: "pt" }));
    const lasting = newUser({ mode, emotion: "😢", language: "pt" });
    const waiting = await wait(lasting);
    // It lasts a sixth of its window (5 s / 6 in tests): the lobby's alarm writes it.
    await timePasses(WRITTEN_AFTER_MS, lobbyOf(mode, "pt"));
    await runDurableObjectAlarm(lobbyOf(mode, "pt"));
    await waitUntil(async () => (await keysOf(mode)).length === 1, 2000, "the lasting wait to be written");
    const [key] = await keysOf(mode);
    expect(key.name).toMatch(
      new RegExp(`^q/${mode}/pt/${encodeURIComponent("😢")}/[0-9a-z]{9}\\.${seatOf(waiting.ticket)}$`),
    );
    expect(JSON.stringify(key.metadata)).not.toMatch(/user-|device-/);
    // Paired: the copy goes.
    await matched(newUser({ mode, emotion: "😢", language: "pt" }));
    await waitUntil(async () => (await keysOf(mode)).length === 0, 2000, "the copy to be deleted");
  });

  it("never breaks a pairing when KV fails: the lobby decides, the store only keeps a copy", async () => {
    vi.spyOn(env.QUEUE, "put").mockRejectedValue(new Error("KV PUT failed: 429 Too Many Requests"));
    const mode = uniqueMode();
    const { socket } = await waitOnSocket(newUser({ mode }));
    // It lasts long enough to be written, and the lobby's alarm tries.
    await timePasses(WRITTEN_AFTER_MS, lobbyOf(mode));
    await runDurableObjectAlarm(lobbyOf(mode));
    await waitUntil(() => vi.mocked(env.QUEUE.put).mock.calls.length > 0, 2000, "a write to be tried");
    await matched(newUser({ mode }));
    await socket.next("matched");
    expect(await waitingIn(mode)).toEqual([]);
  });
});
