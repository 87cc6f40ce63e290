import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { CLOSE } from "@strangers/protocol";
import { describe, expect, it } from "vitest";
import { lobbyOf, timePasses, windows } from "../../../../test/helpers";
import { Consent, DEFAULT_POLICY } from "../../src/consent.ts";
import { memoryStore } from "../../src/store.ts";
import { uniqueMode } from "../probe.ts";
import { newClient, ORIGIN, WorkerdSocket, workerFetch } from "./workerd.ts";

const room = (sessionId: string) => env.CHAT_ROOM.get(env.CHAT_ROOM.idFromName(sessionId));

/** Two clients paired in a queue of their own; Ana waits first, so she gets the push. */
async function pairedClients(anaOptions: Parameters<typeof newClient>[0] = {}) {
  const criteria = { emotion: "😊", mode: uniqueMode() };
  const ana = newClient(anaOptions);
  const ben = newClient();
  await ana.client.match({ ...criteria, userName: "Ana" });
  expect(ana.client.status).toBe("searching");
  await ben.client.match({ ...criteria, userName: "Ben" });
  await ana.until("Ana paired", () => ana.client.status === "chatting");
  await ben.until("Ben paired", () => ben.client.status === "chatting");
  return { ana, ben, criteria, sessionId: ana.of("paired")[0].sessionId };
}

const ids = (p: ReturnType<typeof newClient>) => p.of("message").map((m) => m.message.id);

describe("ChatClient against the real worker", () => {
  it("pairs two clients through the push path, relays messages both ways and shows typing", async () => {
    // Ana's polls all fail, so only the waiting socket can tell her she was paired.
    const { ana, ben } = await pairedClients({
      fetch: (url, init) =>
        init.body?.includes('"ticket"') ? Promise.reject(new TypeError("offline")) : workerFetch(url, init),
    });
    expect(ana.of("paired")[0]).toMatchObject({ partner: { name: "Ben" }, relaxed: [] });
    expect(ben.of("paired")[0]).toMatchObject({ partner: { name: "Ana" }, relaxed: [] });

    ben.client.typing();
    await ana.until("typing", () => ana.of("typing").at(-1)?.isTyping === true);
    const clientId = ben.client.send("  hi Ana  ");
    await ana.until("Ben's message", () => ana.texts().includes("hi Ana"));
    await ben.until("Ben's echo", () => ben.texts().includes("hi Ana"));
    expect(ana.of("typing").at(-1)?.isTyping).toBe(false);
    expect(ana.of("message")[0].mine).toBe(false);
    expect(ben.of("message")[0]).toMatchObject({ mine: true, message: { clientId } });

    ana.client.send("hello Ben");
    await ben.until("Ana's message", () => ben.texts().includes("hello Ben"));
    expect(ben.texts()).toEqual(["hi Ana", "hello Ben"]);
    ana.client.close();
    ben.client.close();
  });

  it("shows a message that arrives twice under one clientId once (a resend after the room lost its write)", async () => {
    class Resending extends WorkerdSocket {
      override send(data: string): void {
        super.send(data);
        if (data.includes('"type":"message"')) super.send(data);
      }
    }
    const { ana, ben } = await pairedClients({ socket: (url) => new Resending(url) });
    ana.client.send("only once");
    ana.client.send("and this too");
    await ben.until("both messages", () => ben.texts().includes("and this too"));
    await ana.until("both echoes", () => ana.texts().includes("and this too"));
    expect(ben.texts()).toEqual(["only once", "and this too"]);
    expect(ana.texts()).toEqual(["only once", "and this too"]);
    ana.client.close();
    ben.client.close();
  });

  it("reconnects with backoff when the server drops the socket, without duplicating messages", async () => {
    const { ana, ben, sessionId } = await pairedClients();
    ana.client.send("one");
    ben.client.send("two");
    await ana.until("two messages", () => ana.texts().length === 2);
    await ben.until("two messages", () => ben.texts().length === 2);

    await evictDurableObject(room(sessionId), { webSockets: "close" });
    await ana.until("reconnecting", () => ana.of("status").some((s) => s.status === "reconnecting"));
    // Sent while the socket is down: held, then delivered once after the reconnect.
    ana.client.send("while away");
    await ana.until("back", () => ana.client.status === "chatting");
    await ben.until("back", () => ben.client.status === "chatting" && ben.of("reconnecting").length > 0);
    await ben.until("queued message", () => ben.texts().includes("while away"));

    const delays = ana.of("reconnecting");
    expect(delays[0].attempt).toBe(1);
    expect(delays[0].delayMs).toBeGreaterThanOrEqual(25); // half the 50 ms base: jittered, never instant
    expect(delays[0].delayMs).toBeLessThanOrEqual(50);
    ben.client.send("after");
    await ana.until("after", () => ana.texts().includes("after"));
    await ben.until("echo of after", () => ben.texts().includes("after"));
    for (const p of [ana, ben]) {
      expect(p.texts()).toEqual(["one", "two", "while away", "after"]);
      expect(new Set(ids(p)).size).toBe(ids(p).length);
    }
    expect(ana.of("paired")).toHaveLength(1);
    ana.client.close();
    ben.client.close();
  });

  it("keeps retrying with growing delays while the room refuses, then gives up on a chat that is gone", async () => {
    const { ana, ben, sessionId } = await pairedClients();
    // The room forgets everything, as after its idle alarm, but without telling anyone.
    await runInDurableObject(room(sessionId), async (instance, state) => {
      (instance as unknown as { state: unknown }).state = null;
      await state.storage.deleteAll();
      for (const ws of state.getWebSockets()) ws.close(CLOSE.stale, "test");
    });
    await ana.until("gave up", () => ana.of("ended").length > 0, 10_000);
    expect(ana.of("ended")[0].reason).toBe("unavailable");
    // One retry after the drop, then three refused upgrades while the API answers: give up.
    expect(ana.of("reconnecting").map((r) => r.attempt)).toEqual([1, 2, 3]);
    const delays = ana.of("reconnecting").map((r) => r.delayMs);
    expect(delays[2]).toBeGreaterThan(delays[0]);
    ben.client.close();
  });

  it("resumes after a refresh: a new client with the same store replays the history once", async () => {
    const store = memoryStore();
    const { ana, ben } = await pairedClients({ store });
    for (const text of ["a", "b", "c"]) ana.client.send(text);
    await ben.until("three", () => ben.texts().length === 3);
    await ana.until("three echoes", () => ana.texts().length === 3);
    ana.client.close(); // the page goes away without leaving

    const refreshed = newClient({ store, identity: ana.identity });
    expect(await refreshed.client.resume()).toBe(true);
    await refreshed.until("history", () => refreshed.texts().length === 3);
    expect(refreshed.of("paired")[0].partner.name).toBe("Ben");
    expect(refreshed.of("message").map((m) => m.mine)).toEqual([true, true, true]);

    ben.client.send("welcome back");
    await refreshed.until("new message", () => refreshed.texts().includes("welcome back"));
    // Reconnecting once more replays the same history again: still no duplicates.
    await evictDurableObject(room(refreshed.of("paired")[0].sessionId), { webSockets: "close" });
    await refreshed.until(
      "reconnected",
      () => refreshed.of("reconnecting").length > 0 && refreshed.client.status === "chatting",
    );
    refreshed.client.send("still one of each");
    await ben.until("last", () => ben.texts().includes("still one of each"));
    // The sender's copy is its acknowledgement; it may arrive just after the partner's.
    await refreshed.until("last echo", () => refreshed.texts().includes("still one of each"));
    expect(refreshed.texts()).toEqual(["a", "b", "c", "welcome back", "still one of each"]);
    refreshed.client.close();
    ben.client.close();
  });

  it("resumes a wait after a refresh and is still paired", async () => {
    const store = memoryStore();
    const mode = uniqueMode();
    const ana = newClient({ store });
    await ana.client.match({ mode, userName: "Ana" });
    ana.client.close();
    const refreshed = newClient({ store, identity: ana.identity });
    expect(await refreshed.client.resume()).toBe(true);
    expect(refreshed.client.status).toBe("searching");
    const ben = newClient();
    await ben.client.match({ mode, userName: "Ben" });
    await refreshed.until("paired", () => refreshed.client.status === "chatting");
    expect(refreshed.of("paired")[0].partner.name).toBe("Ben");
    refreshed.client.close();
    ben.client.close();
  });

  it("cleans a message as the server does before checking its length, so what it sends the server takes", async () => {
    const { ana, ben } = await pairedClients();
    // 1,500 of U+0958 are 3,000 characters in NFC: over the limit, refused here rather than by the server.
    expect(ana.client.send("\u0958".repeat(1500))).toBeNull();
    expect(ana.client.send("\u200B\u200B   \u202E")).toBeNull();
    const id = ana.client.send("  hi\u200B there  ");
    await ben.until("the message", () => ben.texts().includes("hi there"));
    expect(ana.of("unsent")).toEqual([]);
    expect(id).toBeTruthy();
    ana.client.close();
    ben.client.close();
  });

  it("goes back to its wait, at its place, when the stranger it was paired with never joins", async () => {
    const mode = uniqueMode();
    const ana = newClient();
    await ana.client.match({ mode, userName: "Ana" });
    // A stranger asks as a newcomer and is paired with Ana at once, but never joins the chat.
    const ghost = await workerFetch(`${ORIGIN}/api/match`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ userId: crypto.randomUUID(), deviceId: crypto.randomUUID(), userName: "Ghost", mode }),
    });
    expect(await ghost.json()).toMatchObject({ matched: true, partnerName: "Ana" });
    await ana.until("in the chat with the ghost", () => ana.of("paired").length === 1);
    // After the connect window (3 s in tests) the room's alarm gives Ana's wait back, and she is waiting again, unreported.
    const chat = room(ana.of("paired")[0].sessionId);
    await timePasses(windows.connectWindowMs, chat);
    await runDurableObjectAlarm(chat);
    await ana.until("back to her wait", () => ana.of("waiting").length === 2 && ana.client.status === "searching");
    expect(ana.of("ended")).toEqual([]);
    const ben = newClient();
    await ben.client.match({ mode, userName: "Ben" });
    await ana.until("paired with Ben", () => ana.client.status === "chatting" && ana.of("paired").length === 2);
    expect(ana.of("paired")[1].partner.name).toBe("Ben");
    ana.client.close();
    ben.client.close();
  });

  it("Next ends the chat for the partner, who is told and does not reconnect", async () => {
    const { ana, ben } = await pairedClients();
    await ana.client.next();
    await ben.until("ended", () => ben.of("ended").length > 0);
    expect(ben.of("partner_left")).toHaveLength(1);
    expect(ben.of("ended")[0].reason).toBe("left");
    expect(ben.client.status).toBe("ended");
    expect(await ben.store.getItem("strangers.session")).toBeNull();
    expect(ana.of("ended")[0].reason).toBe("you_left");
    expect(ana.client.status).toBe("searching");
    expect(ben.of("reconnecting")).toHaveLength(0);
    ana.client.cancel();
    expect(ana.client.status).toBe("idle");
  });

  it("stops when another client takes over the session, without fighting over it", async () => {
    const store = memoryStore();
    const { ana, ben } = await pairedClients({ store });
    const other = newClient({ store, identity: ana.identity });
    await other.client.resume();
    await ana.until("replaced", () => ana.of("ended").length > 0);
    expect(ana.of("ended")[0].reason).toBe("replaced");
    await other.until("chatting", () => other.client.status === "chatting");
    ben.client.send("to the new tab");
    await other.until("message", () => other.texts().includes("to the new tab"));
    expect(ana.texts()).not.toContain("to the new tab");
    other.client.close();
    ben.client.close();
  });

  // In these tests the search widens to any feeling after 1 s and to any language after 2 s (vitest.config.ts).
  it("says when a wait widens, and tells both sides a feeling was relaxed to pair them", async () => {
    const mode = uniqueMode();
    const ana = newClient();
    const ben = newClient();
    const before = Date.now();
    await ana.client.match({ emotion: "😊", mode, userName: "Ana" });
    const { widening } = ana.of("waiting")[0];
    expect(widening.emotionAt).toBeGreaterThanOrEqual(before + 500);
    expect(widening.emotionAt).toBeLessThanOrEqual(Date.now() + 1000);
    expect(widening.languageAt).toBeNull();
    await ben.client.match({ emotion: "😢", mode, userName: "Ben" });
    // Both wait past the threshold on their sockets: the lobby's alarm pairs them.
    await timePasses(windows.emotionAfterMs, lobbyOf(mode));
    await runDurableObjectAlarm(lobbyOf(mode));
    await ana.until("Ana paired", () => ana.client.status === "chatting");
    await ben.until("Ben paired", () => ben.client.status === "chatting");
    expect(ana.of("paired")[0].relaxed).toEqual(["emotion"]);
    expect(ben.of("paired")[0].relaxed).toEqual(["emotion"]);
    ana.client.close();
    ben.client.close();
  });

  it("pairs across languages only when asked to, and remembers that over a refresh", async () => {
    const mode = uniqueMode();
    const store = memoryStore();
    const ana = newClient({ store });
    const ben = newClient();
    await ana.client.match({ emotion: "😊", mode, language: "es", anyLanguage: true, userName: "Ana" });
    const { widening } = ana.of("waiting")[0];
    expect(widening.languageAt).toBeGreaterThan(widening.emotionAt);
    await ben.client.match({ emotion: "😊", mode, language: "de", anyLanguage: true, userName: "Ben" });
    // Both wait past the any-language threshold: their lobbies' alarms lend them to the pool, which pairs them.
    const homes = [lobbyOf(mode, "es"), lobbyOf(mode, "de")];
    await timePasses(windows.languageAfterMs, ...homes);
    for (const home of homes) await runDurableObjectAlarm(home);
    await ana.until("Ana paired", () => ana.client.status === "chatting");
    await ben.until("Ben paired", () => ben.client.status === "chatting");
    expect(ana.of("paired")[0].relaxed).toEqual(["language"]);
    expect(ben.of("paired")[0].relaxed).toEqual(["language"]);

    ana.client.close();
    const refreshed = newClient({ store, identity: ana.identity });
    expect(await refreshed.client.resume()).toBe(true);
    await refreshed.until("resumed", () => refreshed.of("paired").length > 0);
    expect(refreshed.of("paired")[0].relaxed).toEqual(["language"]);
    refreshed.client.close();
    ben.client.close();
  });

  it("Report ends the chat for both, and only the reporter hears it was their report", async () => {
    const { ana, ben } = await pairedClients();
    ana.client.report("harassment");
    await ana.until("Ana ended", () => ana.of("ended").length > 0);
    await ben.until("Ben ended", () => ben.of("ended").length > 0);
    expect(ana.of("ended")[0].reason).toBe("you_reported");
    expect(ben.of("ended")[0].reason).toBe("reported");
    for (const p of [ana, ben]) {
      expect(p.client.status).toBe("ended");
      expect(p.of("reconnecting")).toHaveLength(0);
      expect(await p.store.getItem("strangers.session")).toBeNull();
    }
  });

  it("marks messages refused for sending too fast as unsent, without resending them, and a retry goes through", async () => {
    const { ana, ben, sessionId } = await pairedClients();
    // Past the room's burst of 20: the tail is refused, everything else arrives once.
    const sent = Array.from({ length: 25 }, (_, i) => `m${i}`);
    for (const text of sent) ana.client.send(text);
    await ana.until("every message answered", () => ana.texts().length + ana.of("unsent").length === sent.length);
    const unsent = ana.of("unsent").map((u) => u.text);
    expect(unsent.length).toBeGreaterThan(0);
    expect([...ana.texts(), ...unsent]).toEqual(sent);
    await ben.until("delivered", () => ben.texts().length === ana.texts().length);
    expect(ana.of("error")).toHaveLength(0);

    await timePasses(600, room(sessionId)); // the budget refills at 2 messages a second
    ana.client.send(unsent[0]);
    await ben.until("retry", () => ben.texts().at(-1) === unsent[0]);
    expect(ana.of("unsent")).toHaveLength(unsent.length);
    ana.client.close();
    ben.client.close();
  });

  it("reports refusals and an unreachable server as typed errors", async () => {
    const tooLong = newClient();
    await tooLong.client.match({ userName: "x".repeat(41) });
    expect(tooLong.client.status).toBe("idle");
    expect(tooLong.of("error")[0]).toMatchObject({
      code: "invalid_body",
      status: 400,
      message: expect.stringMatching(/userName/),
    });

    const offline = newClient({ fetch: () => Promise.reject(new TypeError("network down")) });
    await offline.client.match({});
    expect(offline.client.status).toBe("idle");
    expect(offline.of("error")[0].code).toBe("unreachable");

    const limited = newClient({
      fetch: async () =>
        Response.json(
          {
            success: false,
            error: { code: "rate_limited", message: "Too many match requests; slow down.", retryAfterSeconds: 10 },
          },
          { status: 429, headers: { "Retry-After": "10" } },
        ),
    });
    await limited.client.match({});
    expect(limited.of("error")[0]).toMatchObject({ code: "rate_limited", retryAfterSeconds: 10, status: 429 });
  });

  it("keeps searching when the server is busy, and asks again when it said to", async () => {
    const asked: number[] = [];
    const busyOnce = newClient({
      fetch: async (url, init) => {
        asked.push(Date.now());
        if (asked.length > 1) return workerFetch(url, init);
        return Response.json(
          {
            success: false,
            error: { code: "busy", message: "Too many people are looking right now.", retryAfterSeconds: 1 },
          },
          { status: 503, headers: { "Retry-After": "1" } },
        );
      },
    });
    await busyOnce.client.match({ mode: uniqueMode() });
    expect(busyOnce.of("error")).toEqual([]);
    expect(busyOnce.client.status).toBe("searching");
    expect(asked).toHaveLength(2);
    expect(asked[1] - asked[0]).toBeGreaterThanOrEqual(900);
    busyOnce.client.cancel();
  });

  it("keeps waiting, unreported, when a poll finds the server busy", async () => {
    let polls = 0;
    const waiter = newClient({
      // The waiting socket never opens, so the wait goes on by polls; the first poll finds the server busy.
      socket: () => Object.assign(new EventTarget(), { readyState: 0, send() {}, close() {} }),
      fetch: async (url, init) => {
        if (!init.body?.includes('"ticket"') || ++polls > 1) return workerFetch(url, init);
        return Response.json(
          {
            success: false,
            error: { code: "busy", message: "Too many people are looking right now.", retryAfterSeconds: 1 },
          },
          { status: 503, headers: { "Retry-After": "1" } },
        );
      },
    });
    await waiter.client.match({ mode: uniqueMode() });
    // Polls emit nothing when all is well, so this waits on the clock.
    for (const giveUpAt = Date.now() + 10_000; polls < 2 && Date.now() < giveUpAt; )
      await new Promise((r) => setTimeout(r, 100));
    expect(polls).toBeGreaterThanOrEqual(2);
    expect(waiter.of("error")).toEqual([]);
    expect(waiter.client.status).toBe("searching");
    waiter.client.cancel();
  });
});

describe("the first-visit step and the waiting figures, for the apps too", () => {
  it("asks for consent once per guidelines version and age, and keeps it on the device only", async () => {
    const store = memoryStore();
    const sent: string[] = [];
    const consent = new Consent({
      baseUrl: ORIGIN,
      store,
      fetch: (url, init) => {
        sent.push(url);
        return workerFetch(url, init);
      },
    });
    const policy = await consent.policy();
    expect(policy).toMatchObject({ minimumAge: 18, guidelinesVersion: 1, guidelines: "/guidelines" });
    expect(await consent.needed(policy)).toBe(true);
    await consent.accept(policy);
    expect(await consent.needed(policy)).toBe(false);
    // New guidelines, or an operator who raised the age, ask again.
    expect(await consent.needed({ ...policy, guidelinesVersion: 2 })).toBe(true);
    expect(await consent.needed({ ...policy, minimumAge: 21 })).toBe(true);
    expect(sent).toEqual([`${ORIGIN}/api/policy`]);
    // Offline, the default asks at least as much.
    expect(
      await new Consent({ baseUrl: ORIGIN, store, fetch: () => Promise.reject(new TypeError("offline")) }).policy(),
    ).toEqual(DEFAULT_POLICY);
  });

  it("reads who's around for the chosen queue, and says nothing rather than fail", async () => {
    const { client } = newClient();
    expect(await client.around({ emotion: "😌", language: "en" })).toMatchObject({
      queueKey: "any:😌:en",
      online: expect.anything(),
    });
    const offline = newClient({ fetch: () => Promise.reject(new TypeError("offline")) });
    expect(await offline.client.around({})).toBeNull();
  });

  it("hears which interests the two share, and why a message was refused", async () => {
    const mode = uniqueMode();
    const ana = newClient();
    const ben = newClient();
    await ana.client.match({ mode, userName: "Ana", interests: ["chess", "go"] });
    await ben.client.match({ mode, userName: "Ben", interests: ["Go"] });
    await ana.until("Ana paired", () => ana.client.status === "chatting");
    await ben.until("Ben paired", () => ben.client.status === "chatting");
    expect(ben.of("paired")[0].shared).toEqual(["go"]);
    await ana.until("Ana hears it", () => ana.of("paired")[0]?.shared.length === 1);
    ben.client.send("mail me: ben@example.com");
    await ana.until("masked", () => ana.of("message").some((m) => m.message.masked === true));
    expect(ana.texts().join()).not.toMatch(/example\.com/);
    ana.client.close();
    ben.client.close();
  });
});
