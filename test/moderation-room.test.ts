import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MASK } from "../worker/moderation/filter";
import type { ChatRoom } from "../worker/room/chat-room";
import { statsReport } from "../worker/stats/stats";
import { connect, matched, newUser, pairUp, uniqueMode, waitOnSocket, waitUntil } from "./helpers";

const room = (sessionId: string) => env.CHAT_ROOM.get(env.CHAT_ROOM.idFromName(sessionId));

describe("the moderation filter in a room (MODERATION_ACTION=mask)", () => {
  it("hides contact details on both sides, in the history too, and relays the rest", async () => {
    const { aliceChat: alice, bobChat: bob, bobMatch } = await pairUp();
    const before = (await statsReport(env)).filtered.contact ?? 0;
    alice.send({ type: "message", text: "text me on +44 7700 900123 ok?", clientId: "m1" });
    const atBob = await bob.next("message");
    const ack = await alice.next("message");
    for (const copy of [atBob, ack]) {
      expect(copy.text).not.toMatch(/\d{3}/);
      expect(copy.text).toMatch(/^text me on •+ ok\?$/);
      expect(copy.masked).toBe(true);
    }
    expect(ack.clientId).toBe("m1");

    alice.send({ type: "message", text: "how is your day?" });
    expect(await bob.next("message")).not.toHaveProperty("masked");

    // A reconnect replays what was relayed, never the original.
    const again = await connect(bobMatch.wsUrl, bobMatch.token);
    const { history } = await again.next("welcome");
    expect(history.map((m) => m.text)).toEqual([atBob.text, "how is your day?"]);
    expect(history.map((m) => m.masked)).toEqual([true, undefined]);
    await runInDurableObject(room(bobMatch.sessionId), (_: ChatRoom, state) => {
      const stored = state.storage.sql.exec<{ text: string }>("SELECT text FROM history").toArray();
      expect(JSON.stringify(stored)).not.toMatch(/7700/);
    });
    await waitUntil(
      async () => ((await statsReport(env)).filtered.contact ?? 0) === before + 1,
      3000,
      "the filtered count",
    );
  });

  it("uses the word lists of the chat's language, and sees through hidden and full-width letters", async () => {
    const { aliceChat: alice, bobChat: bob } = await pairUp({ mode: uniqueMode(), language: "en" });
    const cases = [
      ["send nudes", "•••"],
      ["send nu\u00ADdes", "•••"],
      ["mail ｆｏｏ＠ｅｘａｍｐｌｅ．ｃｏｍ ｐｌｅａｓｅ", "mail ••• ｐｌｅａｓｅ"],
    ];
    for (const [text, relayed] of cases) {
      alice.send({ type: "message", text });
      expect(await bob.next("message"), text).toMatchObject({ text: relayed, masked: true });
    }
  });
});

describe("what a search shows the partner", () => {
  it("passes the message filter: a name with contact details is masked, an interest that would be masked is dropped", async () => {
    const mode = uniqueMode();
    const { socket } = await waitOnSocket(
      newUser({ mode, userName: "snap kinky_ana22 t.me/ana", interests: ["music", "send nudes"] }),
    );
    const seat = await matched(newUser({ mode, interests: ["music", "send nudes"] }));
    expect(seat.partnerName).not.toMatch(/t\.me|kinky/);
    expect(seat.partnerName).toContain(MASK);
    // Only what both chose and passed is shared.
    expect(seat.shared).toEqual(["music"]);
    expect((await socket.next("matched")).shared).toEqual(["music"]);
  });

  it("judges a name in the search's language: a word that offends only in another language is someone's name", async () => {
    for (const [language, shown] of [
      ["en", "Randi"],
      ["hi", MASK],
    ] as const) {
      const mode = uniqueMode();
      await waitOnSocket(newUser({ mode, language, userName: "Randi" }));
      expect((await matched(newUser({ mode, language }))).partnerName).toBe(shown);
    }
  });
});
