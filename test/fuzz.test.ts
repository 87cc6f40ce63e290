import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ClientFrame, ErrorCode } from "../worker/protocol";
import { connect, pairUp, postMatch, waitUntil } from "./helpers";

const documentedCodes = new Set<string>(ErrorCode.options);

/** Values of every JSON type, with the awkward strings that break naive code. */
const awkwardString = fc.oneof(
  fc.string(),
  fc.string({ unit: "grapheme", maxLength: 60 }),
  fc.string({ unit: "binary", maxLength: 60 }),
  fc.constantFrom("", " ", "any", "ANY", "\u0000", "\u202E", "😊", "x".repeat(5000), "__proto__", "constructor"),
);
const anyValue = fc.oneof(awkwardString, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.string()), fc.object());

const matchBody = fc.oneof(
  // Shaped like a real request, with any field replaced, dropped or mangled.
  fc.record(
    {
      userId: fc.oneof(awkwardString, anyValue),
      deviceId: fc.oneof(awkwardString, anyValue),
      userName: fc.oneof(awkwardString, anyValue),
      emotion: fc.oneof(awkwardString, anyValue),
      language: fc.oneof(awkwardString, anyValue),
      mode: fc.oneof(awkwardString, anyValue),
      ticket: fc.oneof(awkwardString, anyValue),
    },
    { requiredKeys: [] },
  ).map((o) => JSON.stringify(o)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string({ unit: "binary" }),
);

describe("fuzzing", () => {
  it("answers thousands of generated /api/match bodies with success or a documented error, never a 500", async () => {
    await fc.assert(
      fc.asyncProperty(matchBody, async (body) => {
        const res = await postMatch(body);
        const json = (await res.json()) as { success: boolean; error?: { code: string } };
        if (res.status === 200) return json.success === true;
        return [400, 413, 429].includes(res.status) && json.success === false && documentedCodes.has(json.error!.code);
      }),
      { numRuns: 1500 },
    );
  }, 120_000);

  it("answers thousands of generated frames with error frames, keeps the socket, and the chat alongside loses nothing", async () => {
    const { bobMatch, aliceChat: alice, bobChat: bob } = await pairUp();
    // Valid control frames (leave, report) would end the chat on purpose: fuzz everything else.
    const invalidFrame = fc
      .oneof(
        fc.string({ unit: "binary", maxLength: 300 }),
        fc.jsonValue().map((v) => JSON.stringify(v)),
        fc
          .record({ type: fc.oneof(fc.constantFrom("hello", "message", "typing", "leave", "report", "ping"), awkwardString), text: anyValue, isTyping: anyValue, reason: anyValue, token: anyValue }, { requiredKeys: ["type"] })
          .map((o) => JSON.stringify(o)),
      )
      .filter((raw) => {
        try {
          return !ClientFrame.safeParse(JSON.parse(raw)).success;
        } catch {
          return true;
        }
      });

    const sent: string[] = [];
    let frames = 0;
    await fc.assert(
      fc.asyncProperty(invalidFrame, async (raw) => {
        frames++;
        alice.send(raw);
        const error = await alice.next("error", 2000);
        if (frames % 100 === 0) {
          const text = `alongside ${frames}`;
          sent.push(text);
          bob.send({ type: "message", text });
        }
        return error.type === "error" && documentedCodes.has(error.code) && alice.ws.readyState === WebSocket.OPEN;
      }),
      { numRuns: 2000 },
    );
    await waitUntil(() => alice.frames.filter((f) => f.type === "message").length === sent.length, 5000, "every chat message");
    expect(alice.frames.filter((f) => f.type === "message").map((f) => (f as { text: string }).text)).toEqual(sent);
    expect(bob.ws.readyState).toBe(WebSocket.OPEN);
    const history = (await (await connect(bobMatch.wsUrl, bobMatch.token)).next("welcome")).history.map((m) => m.text);
    expect(history).toEqual(sent);
  }, 120_000);
});
