import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { statsReport } from "../worker/stats";
import { pairUp, waitUntil } from "./helpers";

describe("the moderation filter in a room (MODERATION_ACTION=refuse)", () => {
  it("refuses a message that breaks the rules: the sender is told which one, the stranger sees nothing", async () => {
    const { aliceChat: alice, bobChat: bob } = await pairUp();
    const before = (await statsReport(env)).filtered.link ?? 0;
    alice.send({ type: "message", text: "join me at https://example.com/room", clientId: "bad1" });
    expect(await alice.next("error")).toMatchObject({ code: "message_filtered", clientId: "bad1" });
    alice.send({ type: "message", text: "sorry, just chatting here", clientId: "ok1" });
    // The next message Bob gets is the one after: the refused one was never relayed.
    expect(await bob.next("message")).toMatchObject({ text: "sorry, just chatting here", clientId: "ok1" });
    expect(bob.frames.filter((f) => f.type === "message")).toHaveLength(1);
    expect(alice.ws.readyState).toBe(WebSocket.OPEN);
    await waitUntil(async () => ((await statsReport(env)).filtered.link ?? 0) === before + 1, 3000, "the filtered count");
  });
});
