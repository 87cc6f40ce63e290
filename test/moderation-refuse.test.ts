import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { statsReport } from "../worker/stats/stats";
import { newUser, pairUp, postMatch, uniqueMode, waitUntil } from "./helpers";

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
    await waitUntil(
      async () => ((await statsReport(env)).filtered.link ?? 0) === before + 1,
      3000,
      "the filtered count",
    );
  });
});

describe("what a search shows the partner (MODERATION_ACTION=refuse)", () => {
  it("is refused with a 400 naming the field when the filter would refuse it as a message", async () => {
    for (const [field, body] of [
      ["userName", newUser({ mode: uniqueMode(), userName: "add me t.me/ana" })],
      ["interests", newUser({ mode: uniqueMode(), interests: ["music", "send nudes"] })],
    ] as const) {
      const res = await postMatch(body);
      expect(res.status).toBe(400);
      const json = (await res.json()) as { error: { code: string; message: string } };
      expect(json.error.code).toBe("content_filtered");
      expect(json.error.message).toMatch(new RegExp(`^${field}:`));
    }
    expect((await postMatch(newUser({ mode: uniqueMode(), userName: "Ana", interests: ["music"] }))).status).toBe(200);
  });
});
