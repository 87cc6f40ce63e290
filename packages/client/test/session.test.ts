/**
 * The client in Node 22, without a DOM, against the real worker under `wrangler dev`: what an
 * app on any runtime with `fetch` and `WebSocket` does, from matching to Stop.
 */
import { describe, expect, it } from "vitest";
import { Network, nodeClient } from "./node.ts";
import { uniqueMode } from "./probe.ts";

/** Two clients paired in a queue of their own; Ana waits first, so the pairing is pushed to her. */
async function paired(options: { ana?: Parameters<typeof nodeClient>[0] } = {}) {
  const criteria = { emotion: "😊", language: "en", mode: uniqueMode() };
  const ana = nodeClient(options.ana);
  const ben = nodeClient();
  await ana.client.match({ ...criteria, userName: "Ana" });
  await ana.until("Ana waiting", () => ana.of("waiting").length > 0);
  await ben.client.match({ ...criteria, userName: "Ben" });
  await ana.until("Ana chatting", () => ana.client.status === "chatting", 15_000);
  await ben.until("Ben chatting", () => ben.client.status === "chatting", 15_000);
  return { ana, ben, criteria };
}

describe("ChatClient in Node against wrangler dev", () => {
  it("matches two clients with the global fetch and WebSocket, and a message reaches the other", async () => {
    const { ana, ben } = await paired();
    expect(ana.of("paired")[0]).toMatchObject({ partner: { name: "Ben" }, relaxed: [] });
    expect(ben.of("paired")[0]).toMatchObject({ partner: { name: "Ana" }, relaxed: [] });
    expect(ana.client.partner?.name).toBe("Ben");

    const clientId = ana.client.send("hello from Node");
    await ben.until("Ana's message", () => ben.texts().includes("hello from Node"));
    await ana.until("Ana's echo", () => ana.texts().includes("hello from Node"));
    expect(ben.of("message")[0]).toMatchObject({ mine: false });
    expect(ana.of("message")[0]).toMatchObject({ mine: true, message: { clientId } });

    ben.client.send("hi Ana");
    await ana.until("Ben's answer", () => ana.texts().includes("hi Ana"));
    expect(await ana.client.around()).toMatchObject({ queueKey: expect.any(String) });
    ana.client.close();
    ben.client.close();
  });

  it("reconnects after the connection drops, and loses nothing sent meanwhile by either side", async () => {
    const network = new Network();
    const { ana, ben } = await paired({ ana: { fetch: network.fetch, socket: network.socket } });
    ana.client.send("one");
    await ben.until("one", () => ben.texts().includes("one"));

    network.drop();
    await ana.until("reconnecting", () => ana.client.status === "reconnecting");
    await ben.until("Ana offline", () => ben.of("partner").at(-1)?.online === false, 15_000);
    ben.client.send("while you were away");
    // Queued while the socket is down; delivered after the reconnect.
    ana.client.send("sent offline");
    await new Promise((r) => setTimeout(r, 500));
    expect(ana.client.status).toBe("reconnecting");
    expect(ana.of("error").some((e) => e.code === "unreachable")).toBe(true);

    network.restore();
    await ana.until("back", () => ana.client.status === "chatting", 10_000);
    await ana.until("the missed message", () => ana.texts().includes("while you were away"));
    await ben.until("the queued message", () => ben.texts().includes("sent offline"));
    await ana.until("its echo", () => ana.texts().includes("sent offline"));
    for (const p of [ana, ben]) {
      expect(p.texts()).toEqual(["one", "while you were away", "sent offline"]);
      const ids = p.of("message").map((m) => m.message.id);
      expect(new Set(ids).size).toBe(ids.length);
    }
    expect(ana.of("paired")).toHaveLength(1);
    ana.client.close();
    ben.client.close();
  });

  it("Next tells the partner the chat is over, and the one who pressed it searches again", async () => {
    const { ana, ben, criteria } = await paired();
    await ana.client.next();
    await ben.until("ended", () => ben.of("ended").length > 0);
    expect(ben.of("partner_left")).toHaveLength(1);
    expect(ben.of("ended")[0].reason).toBe("left");
    expect(ben.client.status).toBe("ended");
    expect(ana.of("ended")[0].reason).toBe("you_left");
    expect(ana.client.status).toBe("searching");

    // Searching again for real: a newcomer to the same queue is paired with Ana (never Ben again: he has stopped).
    const cleo = nodeClient();
    await cleo.client.match({ ...criteria, userName: "Cleo" });
    await ana.until("a new partner", () => ana.of("paired").length === 2, 15_000);
    expect(ana.of("paired")[1].partner.name).toBe("Cleo");
    ana.client.close();
    cleo.client.close();
  });

  it("Stop ends the chat on both sides, and neither reconnects", async () => {
    const { ana, ben } = await paired();
    ana.client.leave();
    expect(ana.client.status).toBe("ended");
    expect(ana.of("ended")[0].reason).toBe("you_left");
    await ben.until("ended", () => ben.of("ended").length > 0);
    expect(ben.of("ended")[0].reason).toBe("left");
    expect(await ana.store.getItem("strangers.session")).toBeNull();
    expect(await ben.store.getItem("strangers.session")).toBeNull();
    await new Promise((r) => setTimeout(r, 300));
    expect(ana.of("reconnecting")).toHaveLength(0);
    expect(ben.of("reconnecting")).toHaveLength(0);
  });
});
