import { ClientFrameSchema, ErrorCodeSchema, MatchRequestSchema } from "@strangers/protocol/schemas";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readFrame } from "../worker/platform/socket-object";
import { connect, pairUp, postMatch, uniqueMode, waitUntil } from "./helpers";

const documentedCodes = new Set<string>(ErrorCodeSchema.options);

/** Any UTF-16 code unit, lone surrogates included: the whole range a client can put in JSON. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
/** Values of every JSON type, with the awkward strings that break naive code. */
const awkwardString = fc.oneof(
  fc.string(),
  fc.string({ unit: codeUnit, maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 60 }),
  fc.string({ unit: "binary", maxLength: 60 }),
  fc.constantFrom(
    "",
    " ",
    "any",
    "ANY",
    "\u0000",
    "\u202E",
    "\uD800",
    "\uDC00x",
    "a\uFE0F",
    "😊",
    "x".repeat(5000),
    "__proto__",
    "constructor",
  ),
);
const anyValue = fc.oneof(
  awkwardString,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string()),
  fc.object(),
);

const matchBody = fc.oneof(
  // Shaped like a real request, with any field replaced, dropped or mangled.
  fc
    .record(
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
    )
    .map((o) => JSON.stringify(o)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string({ unit: "binary" }),
  fc.string({ unit: codeUnit }),
);

/** A frame that is not a valid client frame (valid control frames would end the chat on purpose). */
const invalidFrame = fc
  .oneof(
    fc.string({ unit: codeUnit, maxLength: 300 }),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc
      .record(
        {
          type: fc.oneof(fc.constantFrom("hello", "message", "typing", "leave", "report", "ping"), awkwardString),
          text: anyValue,
          isTyping: anyValue,
          reason: anyValue,
          token: anyValue,
          clientId: anyValue,
        },
        { requiredKeys: ["type"] },
      )
      .map((o) => JSON.stringify(o)),
  )
  .filter((raw) => {
    try {
      return !ClientFrameSchema.safeParse(JSON.parse(raw)).success;
    } catch {
      return true;
    }
  });

/** A well-formed string with no hidden characters: what every accepted criterion and name must be. */
const clean = (s: string) =>
  !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s) &&
  !/[\u0000-\u001F\u007F-\u009F\u200B\u200E\u200F\u2028-\u202E\u2060-\u2064\u2066-\u206F\uFEFF]/.test(s);

describe("fuzzing the rules on input", () => {
  it("accepts a match body only with clean text in every field, and never throws", () => {
    fc.assert(
      fc.property(matchBody, (raw) => {
        let json: unknown;
        try {
          json = JSON.parse(raw);
        } catch {
          return true;
        }
        const parsed = MatchRequestSchema.safeParse(json);
        if (!parsed.success) return parsed.error.issues.length > 0;
        const { userName, emotion, language, mode } = parsed.data;
        return (
          [userName, emotion, language, mode].every(clean) &&
          /^[a-z]{2,3}$|^any$/.test(language) &&
          !/[\uFE0E\uFE0F]/.test(emotion)
        );
      }),
      { numRuns: 20_000 },
    );
  });

  it("reads any frame into a valid frame or a documented error, and never throws", () => {
    fc.assert(
      fc.property(fc.oneof(invalidFrame, fc.string({ unit: codeUnit, maxLength: 64 })), (raw) => {
        const read = readFrame(raw);
        return "frame" in read || documentedCodes.has(read.error.code);
      }),
      { numRuns: 20_000 },
    );
  });
});

describe("fuzzing the service", () => {
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

  it("answers generated frames with error frames, keeps the socket within its budget, and the chat alongside loses nothing", async () => {
    // Junk is charged to the sender's frame budget (a burst of 20), so each chat takes a batch within it.
    const BATCH = 15;
    let chat = await pairUp({ mode: uniqueMode() });
    let inBatch = 0;
    const sent: string[] = [];
    const received: string[] = [];
    const finishChat = async () => {
      const text = `alongside ${sent.length}`;
      sent.push(text);
      chat.bobChat.send({ type: "message", text });
      await waitUntil(
        () => chat.aliceChat.frames.some((f) => f.type === "message" && f.text === text),
        5000,
        "the partner's message",
      );
      received.push(...chat.aliceChat.frames.flatMap((f) => (f.type === "message" ? [f.text] : [])));
      const history = (await (await connect(chat.bobMatch.wsUrl, chat.bobMatch.token)).next("welcome")).history.map(
        (m) => m.text,
      );
      expect(history).toEqual([text]);
    };
    await fc.assert(
      fc.asyncProperty(invalidFrame, async (raw) => {
        if (inBatch === BATCH) {
          await finishChat();
          chat = await pairUp({ mode: uniqueMode() });
          inBatch = 0;
        }
        inBatch++;
        chat.aliceChat.send(raw);
        const error = await chat.aliceChat.next("error", 2000);
        return documentedCodes.has(error.code) && chat.aliceChat.ws.readyState === WebSocket.OPEN;
      }),
      { numRuns: 300 },
    );
    await finishChat();
    expect(received).toEqual(sent);
  }, 120_000);
});
