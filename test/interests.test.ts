import { describe, expect, it } from "vitest";
import { connect, matched, newUser, postMatch, uniqueMode, waitingIn, waitOnSocket } from "./helpers";

/** The lobby holds these waits. */
async function listed(mode: string, count: number) {
  expect(await waitingIn(mode)).toHaveLength(count);
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
