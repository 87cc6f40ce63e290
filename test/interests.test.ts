import { describe, expect, it } from "vitest";
import { connect, matched, newUser, postMatch, uniqueMode, waitOnSocket, waitUntil } from "./helpers";
import { env } from "cloudflare:workers";
import { timings } from "../worker/config";
import { waitingListFor } from "../worker/waiting-list";
import { Search } from "../worker/search";
import type { Seeker } from "../worker/seat-state";

/** Both waits are on the list a newcomer reads (KV lists what was written, the queue objects hold it). */
async function listed(mode: string, count: number) {
  const list = waitingListFor(env, timings(env));
  await waitUntil(async () => (await list.fresh({ mode, emotion: "any", language: "any" }, "exact", Date.now(), 64)).length === count, 3000, `${count} listed`);
}

describe("interests", () => {
  it("pair a newcomer with the waiter who shares one, ahead of those who waited longer", async () => {
    const mode = uniqueMode();
    // Two tabs of one device: both wait, since nobody is paired with their own device.
    const deviceId = crypto.randomUUID();
    for (let i = 0; i < 5; i++) await waitOnSocket(newUser({ mode, deviceId, userName: "Waited longer" }));
    await waitOnSocket(newUser({ mode, deviceId, userName: "Chess fan", interests: ["chess", "films"] }));
    await listed(mode, 6);

    const found = await matched(newUser({ mode, interests: ["#Chess", "music"] }));
    expect(found).toMatchObject({ partnerName: "Chess fan", shared: ["chess"] });
    const chat = await connect(found.wsUrl, found.token);
    expect(await chat.next("welcome")).toMatchObject({ shared: ["chess"] });
  });

  it("lead a waiter's own search to someone ahead who shares one, before its neighbour", async () => {
    const mode = uniqueMode();
    // Three waits of one device (they never take each other): the chess fan first, then two others.
    const deviceId = crypto.randomUUID();
    const { waiting: fan } = await waitOnSocket(newUser({ mode, deviceId, userName: "Chess fan", interests: ["chess"] }));
    for (let i = 0; i < 2; i++) await waitOnSocket(newUser({ mode, deviceId, userName: "Neighbour" }));
    // A fourth waiter, fourth in line, looks for itself: its neighbour is the third, the fan is first.
    const me: Seeker = {
      name: "Me",
      user: "me-user",
      device: "me-device",
      avoid: [],
      criteria: { mode, emotion: "any", language: "any" },
      anyLanguage: false,
      interests: ["chess"],
      enqueuedAt: Date.now(),
      origin: "http://chat.test",
    };
    const own = { ...me.criteria, seatId: "me-seat-0000000000", enqueuedAt: me.enqueuedAt, seenAt: Date.now(), user: me.user, device: me.device, anyLanguage: false, interests: me.interests };
    const list = waitingListFor(env, timings(env));
    await list.put(own);
    await listed(mode, 4);
    const found = await new Search(env, timings(env), me).asWaiter(own);
    expect(found).toMatchObject({ seatId: fan.ticket.split(".")[0], pairing: { partnerName: "Chess fan", shared: ["chess"] } });
    await list.remove(own);
  });

  it("cost nothing when nobody shares them: the usual rules pair at once", async () => {
    const mode = uniqueMode();
    await waitOnSocket(newUser({ mode, userName: "Ana", interests: ["chess"] }));
    await listed(mode, 1);
    expect(await matched(newUser({ mode, interests: ["football"] }))).toMatchObject({ partnerName: "Ana", shared: [] });
  });

  it("are one spelling each, and bounded", async () => {
    const mode = uniqueMode();
    await waitOnSocket(newUser({ mode, userName: "Ana", interests: ["  Chess   CLUB ", "chess club", ""] }));
    await listed(mode, 1);
    expect(await matched(newUser({ mode, interests: ["#chess_club"] }))).toMatchObject({ shared: ["chess club"] });

    const refusals = [
      [["a", "b", "c", "d"], /^interests: at most 3 interests$/],
      [["x".repeat(30)], /^interests\.0: each interest must be at most 24 characters$/],
      [["<b>hi</b>"], /letters, digits, spaces and dashes/],
      ["chess", /list of words/],
    ] as const;
    for (const [interests, message] of refusals) {
      const res = await postMatch(newUser({ mode, interests: interests as never }));
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("invalid_body");
      expect(body.error.message).toMatch(/^interests/);
      expect(body.error.message).toMatch(message);
    }
  });
});
