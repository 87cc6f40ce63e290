import { env } from "cloudflare:workers";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parseStamp, spelled, stampText } from "../load-tests/scenario/stamp";
import { chain, type FilterCategory, localFilter, type MessageFilter, type Verdict } from "../worker/moderation/filter";
import { aiFilter, filterFor } from "../worker/moderation/setup";
import { BUILT_IN_WORDS } from "../worker/moderation/words";

const masking = localFilter({ action: "mask" });
const refusing = localFilter({ action: "refuse" });
const check = (text: string, languages: string[] = ["any"]) => masking.check(text, languages) as Verdict;
const categoriesOf = (verdict: Verdict) => (verdict.action === "pass" ? [] : verdict.categories);
const maskedText = (text: string, languages: string[] = ["any"]) => {
  const verdict = check(text, languages);
  return verdict.action === "mask" ? verdict.text : verdict.action;
};

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the local filter", () => {
  it("masks each kind of thing it looks for, leaving the rest of the message as written", () => {
    expect(maskedText("you are a b1tch")).toBe("you are a •••");
    expect(maskedText("hi, send nudes pls")).toBe("hi, ••• pls");
    expect(maskedText("text me on +44 7700 900123 ok?")).toBe("text me on ••• ok?");
    expect(maskedText("write to ana.perez@example.com tonight")).toBe("write to ••• tonight");
    expect(maskedText("my snap: foo_bar and my insta is @foo")).toBe("my ••• and my •••");
    expect(maskedText("join me at https://example.com/room now")).toBe("join me at ••• now");
    expect(maskedText("see t.me/somebody or discord.gg/abc")).toBe("see ••• or •••");
  });

  it("names the category of what it found", () => {
    expect(categoriesOf(check("you slut"))).toEqual(["slur"]);
    expect(categoriesOf(check("wanna sext?"))).toEqual(["sexual"]);
    expect(categoriesOf(check("call 555 123 4567"))).toEqual(["contact"]);
    expect(categoriesOf(check("go to example.com"))).toEqual(["link"]);
  });

  it("reports each category once, in a stable order, whatever order they appear in", () => {
    const verdict = check("visit example.com, call 5551234567, whore, or visit bit.ly/x, whore");
    expect(verdict).toEqual({
      action: "mask",
      text: "visit •••, call •••, •••, or visit •••, •••",
      categories: ["slur", "contact", "link"],
    });
  });

  it("merges spans that overlap or touch into one mask", () => {
    // "nudes" is a word of its own before the "@", and inside the address.
    expect(check("nudes@example.com")).toEqual({ action: "mask", text: "•••", categories: ["sexual", "contact"] });
    // Japanese entries match inside text, so two can touch.
    expect(check("セックスキチガイ", ["ja"])).toEqual({ action: "mask", text: "•••", categories: ["slur", "sexual"] });
  });

  it("refuses instead, without text, when asked to", () => {
    expect(refusing.check("call 5551234567 or visit example.com", ["en"])).toEqual({
      action: "refuse",
      categories: ["contact", "link"],
    });
    expect(refusing.check("how is your day going?", ["en"])).toEqual({ action: "pass" });
  });

  it("does not count the domain of an e-mail address as a link", () => {
    expect(categoriesOf(check("mail me: someone@gmail.com"))).toEqual(["contact"]);
    expect(categoriesOf(check("name at gmail dot com"))).toEqual(["contact"]);
  });
});

describe("word lists", () => {
  it("apply only in chats of their language", () => {
    expect(categoriesOf(check("eres una puta", ["es"]))).toEqual(["slur"]);
    expect(check("eres una puta", ["ja"])).toEqual({ action: "pass" });
    expect(categoriesOf(check("तू रंडी है", ["hi"]))).toEqual(["slur"]);
    expect(check("तू रंडी है", ["en"])).toEqual({ action: "pass" });
  });

  it("leave a word alone where it is ordinary, even though it offends in another language", () => {
    // "randi" is a Hindi slur and an English name; "troia" an Italian slur and Troy in Portuguese.
    expect(categoriesOf(check("randi", ["hi"]))).toEqual(["slur"]);
    expect(check("My friend Randi says hi", ["en"])).toEqual({ action: "pass" });
    expect(categoriesOf(check("sei una troia", ["it"]))).toEqual(["slur"]);
    expect(check("A guerra de Troia foi longa", ["pt"])).toEqual({ action: "pass" });
    // "negro" is black in Spanish and on no list.
    expect(check("Mi gato es negro", ["es"])).toEqual({ action: "pass" });
  });

  it("apply every language's list in a chat of two languages, and all of them for any", () => {
    expect(categoriesOf(check("puta and slut", ["en", "es"]))).toEqual(["slur"]);
    expect(maskedText("puta and slut", ["en", "es"])).toBe("••• and •••");
    expect(maskedText("puta, Schlampe, セックス", ["any"])).toBe("•••, •••, •••");
    expect(maskedText("puta, Schlampe, セックス", ["ES", "ja"])).toBe("•••, Schlampe, •••");
  });

  it("apply the lists meant for every chat to a language without lists of its own", () => {
    expect(categoriesOf(check("send nudes", ["ko"]))).toEqual(["sexual"]);
    expect(check("puta", ["ko"])).toEqual({ action: "pass" });
  });

  it("catch every built-in entry in its own language", () => {
    for (const [language, lists] of Object.entries(BUILT_IN_WORDS)) {
      for (const category of ["slur", "sexual"] as const) {
        for (const entry of lists[category] ?? []) {
          expect(categoriesOf(check(`well, ${entry}!`, [language])), `${language} ${category}: ${entry}`).toContain(
            category,
          );
        }
      }
    }
  });

  it("add the operator's words to the built-in ones, by language and for every chat", () => {
    const filter = localFilter({
      action: "mask",
      words: { en: { slur: ["zorkface"] }, ANY: { sexual: ["blorp time"] } },
    });
    expect(filter.check("you zorkface", ["en"])).toEqual({ action: "mask", text: "you •••", categories: ["slur"] });
    expect(filter.check("you zorkface", ["fr"])).toEqual({ action: "pass" });
    expect(filter.check("blorp-time?", ["fr"])).toEqual({ action: "mask", text: "•••?", categories: ["sexual"] });
    expect(filter.check("you slut", ["en"])).toMatchObject({ categories: ["slur"] });
  });

  it("match whole words, so innocent words that contain a listed one pass (the Scunthorpe problem)", () => {
    const strict = localFilter({
      action: "mask",
      words: { en: { slur: ["ass", "rape", "tit", "cock", "anal", "shit", "sex"] } },
    });
    for (const text of [
      "a class act",
      "the assassin",
      "Scunthorpe",
      "a cocktail",
      "my analysis",
      "my therapist",
      "grape juice",
      "Essex and Sussex",
      "shiitake",
      "the title",
      "Middlesex",
    ]) {
      expect(strict.check(text, ["en"]), text).toEqual({ action: "pass" });
    }
    expect(strict.check("kiss my ass", ["en"])).toMatchObject({ action: "mask", text: "kiss my •••" });
  });
});

describe("evasion", () => {
  it.each([
    ["look-alike digits and symbols", "s3nd nud3$"],
    ["leetspeak with 0, 1, 4, 5, 7", "5h0w m3 y0ur b0dy"],
    ["repeated letters", "seeeend nuuudes"],
    ["upper case", "ARE YOU NAKED"],
    ["punctuation between the words", "send...nudes"],
    ["underscores between the words", "send_nudes"],
    ["no space at all", "sendnudes"],
    ["a dick pic in leetspeak", "d1ck p1c pls"],
    ["a joiner hidden inside a word", "send nu\u200Cdes"],
    ["a joiner between doubled letters", "wanna s\u200Dext"],
    ["full-width letters", "ｓｅｎｄ ｎｕｄｅｓ"],
    ["underlined letters (combining low lines)", "s\u0332e\u0332x\u0332t me"],
    ["struck-through letters", "n\u0336u\u0336d\u0336e\u0336s\u0336 pls"],
  ])("catches %s", (_how, text) => {
    expect(categoriesOf(check(text, ["en"]))).toContain("sexual");
  });

  it.each([
    ["@ for a", "nigg@"],
    ["$ for s", "$lut"],
    ["7 for t and 1 for i", "b1tch, 5lu7"],
    ["a plural", "sluts"],
    ["tatweel stretching Arabic letters", "شـرمـوطة"],
    ["a Hindi slur written in Latin letters", "chuuutiya"],
  ])("catches a slur with %s", (_how, text) => {
    expect(categoriesOf(check(text))).toContain("slur");
  });

  it.each([
    ["name at gmail dot com"],
    ["name(at)gmail(dot)com"],
    ["name [at] gmail . com"],
    ["name @ gmail.com"],
    ["ana.b at gmail"],
    ["ana_b22 @ hotmail"],
  ])("catches the e-mail address in %j", (text) => {
    expect(categoriesOf(check(text))).toEqual(["contact"]);
  });

  it.each([
    ["+34 612 345 678"],
    ["0044 20 7946 0958"],
    ["(555) 123-4567"],
    ["06.12.34.56.78"],
    ["0171/1234567"],
    ["٠١٢٣٤٥٦٧٨٩"],
    ["९८७६५४३२१०"],
  ])("catches the phone number %j", (text) => {
    expect(maskedText(`here: ${text}`)).toBe("here: •••");
  });

  it.each([
    ["snap: foo_bar"],
    ["my insta is @foo"],
    ["add me on telegram @foo"],
    ["whatsapp me"],
    ["kik foo"],
    ["mi insta es @foo"],
    ["IG = foo.bar"],
    ["find me on insta, ana_b22"],
    ["insta, ana_b22"],
  ])("catches the handle offered in %j", (text) => {
    expect(categoriesOf(check(text))).toEqual(["contact"]);
  });

  it.each([
    ["http://example.com"],
    ["www.example.org"],
    ["example.com/join"],
    ["example(.)com"],
    ["example [dot] com"],
    ["example dot com"],
    ["wa.me/5551234"],
    ["bit.ly/abc"],
    ["youtu.be/xyz"],
  ])("catches the link %j", (text) => {
    expect(categoriesOf(check(text))).toContain("link");
  });
});

describe("ordinary chat", () => {
  const ordinary: [string, string][] = [
    ["en", "I'm 25"],
    ["en", "call me at 10:30"],
    ["en", "I was born in 1999"],
    ["en", "2 + 2 = 4"],
    ["en", "I'm on version 1.2.3"],
    ["en", "it costs $1,299.99"],
    ["en", "see you on 2024-05-01 at 10:30"],
    ["en", "I have 3 cats and 2 dogs"],
    ["en", "where are you at"],
    ["en", "I'm at home"],
    ["en", "I work at yahoo, you?"],
    ["en", "mostly on insta, mostly memes"],
    ["en", "I'm at the park"],
    ["en", "I write node.js, e.g. servers, i.e. backends"],
    ["en", "Mr.Smith says pi is 3.14"],
    ["en", "open file.txt and print hello.world"],
    ["en", "from 9 a.m. to 5 p.m."],
    ["en", "ok.bye"],
    ["en", "see you tomorrow.in the morning"],
    ["en", "look at her. Me too"],
    ["en", "oh snap, I forgot"],
    ["en", "my insta is private"],
    ["en", "I wore a polka dot top"],
    ["en", "I'm in the class of 2020 and study Greek analysis"],
    ["en", "the assassin in Scunthorpe ordered a cocktail"],
    ["en", "my therapist grows grapes in Essex and Sussex"],
    ["en", "magna cum laude, with shiitake"],
    ["en", "I'm 1.80 m tall and weigh 75 kg"],
    ["es", "Hola, ¿cómo estás? Soy de Madrid"],
    ["es", "Mi perro es negro y tiene 3 años"],
    ["es", "El año pasado comí un cono de helado"],
    ["es", "Cuesta 1.500.000 pesos"],
    ["pt", "Oi, tudo bem? Eu moro em São Paulo"],
    ["pt", "Eu gosto de futebol e música, e você?"],
    ["pt", "Custa R$ 1.299.000"],
    ["fr", "Salut, ça va ? Je suis de Lyon et j'ai 1 000 000 d'idées"],
    ["de", "Ich wohne in Berlin und das ist echt geil"],
    ["it", "Ciao, come stai? Sono di Roma"],
    ["hi", "नमस्ते, आप कैसे हैं? मैं दिल्ली में रहता हूँ"],
    ["hi", "kya haal hai bhai, main theek hoon"],
    ["hi", "मेरा जन्म १९९९ में हुआ"],
    ["ar", "مرحبا، كيف حالك؟ أنا من القاهرة وأحب كرة القدم"],
    ["ar", "ana mn masr w b7eb el kora"],
    ["ar", "عمري ٢٥ سنة"],
    ["ja", "こんにちは、元気ですか？東京に住んでいます"],
    ["ja", "勘違いしてた、ごめんね"],
    ["ja", "販売女性として働いています"],
    ["ja", "ガイジンと呼ばれた"],
  ];

  it.each(ordinary)("passes %s: %j in its own language and in an any-language chat", (language, text) => {
    expect(check(text, [language])).toEqual({ action: "pass" });
    expect(check(text, ["any"])).toEqual({ action: "pass" });
  });
});

describe("adversarial input", () => {
  // Each must finish; a pattern that backtracks catastrophically would hang the test instead.
  it.each([
    ["a run of one letter", `${"a".repeat(2000)}!`],
    ["digits and spaces", "1 ".repeat(1000)],
    ["dollar signs", "$".repeat(2000)],
    ["letters and at signs", "a@".repeat(1000)],
    ["dotted labels", "a.".repeat(1000)],
    ["a stretched vowel", `s${"e".repeat(1998)}y`],
    ["a repeated Japanese letter", "セ".repeat(2000)],
    ["a long handle", `ig ${"a".repeat(1997)}`],
  ])("a message of %s finishes", (_what, text) => {
    expect(text.length).toBeLessThanOrEqual(2001);
    expect(check(text).action).toMatch(/^(pass|mask)$/);
  });
});

/** A real filter that always answers the same and notes that it was asked. */
function fixed(verdict: Verdict, asked: string[], name: string): MessageFilter {
  return {
    check(_text, _languages) {
      asked.push(name);
      return verdict;
    },
  };
}

describe("chain", () => {
  const found = (categories: FilterCategory[]): Verdict => ({ action: "refuse", categories });

  it("asks the second filter only when the first passes", async () => {
    const asked: string[] = [];
    expect(
      await chain(fixed({ action: "pass" }, asked, "first"), fixed(found(["slur"]), asked, "second")).check("hi", [
        "en",
      ]),
    ).toEqual(found(["slur"]));
    expect(asked).toEqual(["first", "second"]);

    asked.length = 0;
    expect(
      await chain(fixed(found(["link"]), asked, "first"), fixed({ action: "pass" }, asked, "second")).check("hi", [
        "en",
      ]),
    ).toEqual(found(["link"]));
    expect(asked).toEqual(["first"]);
  });

  it("passes when both pass", async () => {
    const asked: string[] = [];
    expect(await chain(masking, fixed({ action: "pass" }, asked, "second")).check("good morning", ["en"])).toEqual({
      action: "pass",
    });
    expect(asked).toEqual(["second"]);
  });
});

describe("the Workers AI filter", () => {
  const MODEL = "@cf/meta/llama-guard-3-8b";
  /** A classifier that always gives one answer, and remembers what it was asked. */
  const classifier = (output: unknown) => {
    const calls: { model: string; input: unknown }[] = [];
    return {
      calls,
      run: async (model: string, input: unknown) => {
        calls.push({ model, input });
        return output;
      },
    };
  };

  it("sends the message as one user turn", async () => {
    const ai = classifier({ response: "safe" });
    await aiFilter(ai, MODEL, "mask").check("hello there", ["en"]);
    expect(ai.calls).toEqual([{ model: MODEL, input: { messages: [{ role: "user", content: "hello there" }] } }]);
  });

  it.each([
    ["an object, safe", { response: { safe: true, categories: [] } }, { action: "pass" }],
    [
      "an object, sexual content",
      { response: { safe: false, categories: ["S12"] } },
      { action: "mask", text: "•••", categories: ["sexual"] },
    ],
    [
      "an object, hate",
      { response: { safe: false, categories: ["S10"] } },
      { action: "mask", text: "•••", categories: ["slur"] },
    ],
    ["text, safe", { response: "safe" }, { action: "pass" }],
    ["text, child exploitation", { response: "unsafe\nS4" }, { action: "mask", text: "•••", categories: ["sexual"] }],
    [
      "text, several hazards",
      { response: "unsafe\nS1,S12" },
      { action: "mask", text: "•••", categories: ["slur", "sexual"] },
    ],
    ["text, unsafe without a code", { response: "unsafe" }, { action: "mask", text: "•••", categories: ["slur"] }],
  ])("reads an answer given as %s", async (_shape, output, expected) => {
    expect(await aiFilter(classifier(output), MODEL, "mask").check("some message", ["en"])).toEqual(expected);
  });

  it("refuses instead of masking when asked to", async () => {
    expect(await aiFilter(classifier({ response: "unsafe\nS12" }), MODEL, "refuse").check("x", ["en"])).toEqual({
      action: "refuse",
      categories: ["sexual"],
    });
  });

  it("passes, with a warning, when the classifier fails or answers something unreadable", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const down = { run: async () => Promise.reject(new Error("AiError: 3040: capacity temporarily exceeded")) };
    expect(await aiFilter(down, MODEL, "refuse").check("a secret message", ["en"])).toEqual({ action: "pass" });
    expect(await aiFilter(classifier({ result: 42 }), MODEL, "refuse").check("a secret message", ["en"])).toEqual({
      action: "pass",
    });
    expect(warn).toHaveBeenCalledTimes(2);
    expect(warn.mock.calls.join("\n")).toContain("moderation.ai_failed");
    expect(warn.mock.calls.join("\n")).not.toContain("a secret message");
  });

  it("passes a message the classifier sits on, so one hung call cannot hold up the chat", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    // Its time limit runs out at once rather than in real time (restored after each test).
    const limit = vi.spyOn(scheduler, "wait").mockResolvedValue(undefined);
    const hung = { run: () => new Promise<never>(() => {}) };
    expect(await aiFilter(hung, MODEL, "refuse").check("anyone there?", ["en"])).toEqual({ action: "pass" });
    // A limit a person waits out in a moment, not one that holds up the chat.
    for (const [ms] of limit.mock.calls) expect(ms).toBeLessThanOrEqual(2_000);
  });
});

describe("the filter from the environment", () => {
  const configured = (vars: Partial<Env>, extra: object = {}) => filterFor({ ...env, ...vars, ...extra } as Env);

  it("masks by default with the built-in lists", async () => {
    expect(await configured({ MODERATION_ACTION: "", MODERATION_WORDS: "" }).check("you slut", ["en"])).toEqual({
      action: "mask",
      text: "you •••",
      categories: ["slur"],
    });
  });

  it("refuses when MODERATION_ACTION is refuse", async () => {
    expect(await configured({ MODERATION_ACTION: "refuse" }).check("you slut", ["en"])).toEqual({
      action: "refuse",
      categories: ["slur"],
    });
  });

  it("lets everything through when MODERATION_ACTION is off", async () => {
    const off = configured({ MODERATION_ACTION: "off" });
    for (const text of ["you slut", "send nudes", "call 5551234567", "https://example.com"])
      expect(await off.check(text, ["any"])).toEqual({ action: "pass" });
  });

  it("adds the operator's MODERATION_WORDS", async () => {
    const filter = configured({ MODERATION_WORDS: JSON.stringify({ de: { slur: ["Quarkkopf"] } }) });
    expect(await filter.check("du Quarkkopf", ["de"])).toEqual({
      action: "mask",
      text: "du •••",
      categories: ["slur"],
    });
    expect(await filter.check("du Quarkkopf", ["en"])).toEqual({ action: "pass" });
  });

  it.each([
    ["not json"],
    ["[1, 2]"],
    ['"words"'],
    ['{"en": {"slurs": ["x"]}}'],
    ['{"en": {"slur": "x"}}'],
    ['{"en": null}'],
  ])("ignores MODERATION_WORDS %s with one warning, and keeps the built-in lists", async (words) => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const filter = configured({ MODERATION_ACTION: "mask", MODERATION_WORDS: words });
    configured({ MODERATION_ACTION: "mask", MODERATION_WORDS: words });
    expect(await filter.check("you slut", ["en"])).toMatchObject({ categories: ["slur"] });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toContain("moderation.words_invalid");
  });

  it("is built once per configuration", () => {
    const vars = {
      MODERATION_ACTION: "mask",
      MODERATION_WORDS: '{"any": {"slur": ["once"]}}',
      MODERATION_AI_MODEL: "",
    };
    expect(configured(vars)).toBe(configured({ ...vars }));
    expect(configured(vars)).not.toBe(configured({ ...vars, MODERATION_ACTION: "refuse" }));
  });

  it("asks the AI classifier after the local lists when a model and an AI binding are there", async () => {
    const calls: string[] = [];
    const AI = {
      run: async (_model: string, input: unknown) => {
        calls.push(JSON.stringify(input));
        return { response: "unsafe\nS10" };
      },
    };
    const filter = configured({ MODERATION_ACTION: "mask", MODERATION_AI_MODEL: "@cf/test/classifier-a" }, { AI });
    expect(await filter.check("call 5551234567", ["en"])).toMatchObject({ categories: ["contact"] });
    expect(calls).toHaveLength(0);
    expect(await filter.check("a polite sentence", ["en"])).toEqual({
      action: "mask",
      text: "•••",
      categories: ["slur"],
    });
    expect(calls).toHaveLength(1);
  });

  it("uses the local lists alone when a model is named but there is no AI binding", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const filter = configured({ MODERATION_ACTION: "mask", MODERATION_AI_MODEL: "@cf/test/classifier-b" });
    expect(await filter.check("a polite sentence", ["en"])).toEqual({ action: "pass" });
    expect(String(warn.mock.calls[0]?.[0])).toContain("moderation.ai_unbound");
  });
});

describe("the load tests' messages", () => {
  // The bench and the smoke test measure the service as deployed, filter included: a stamp it
  // masked would read as a lost message, or as a latency of NaN.
  it("pass the filter untouched, whatever their ids and times, and read back as sent", () => {
    const filter = localFilter({ action: "mask" });
    const id = (min: number, max: number) =>
      fc.string({
        unit: fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"),
        minLength: min,
        maxLength: max,
      });
    fc.assert(
      fc.property(
        fc.record({
          seq: fc.integer({ min: 1, max: 100_000 }),
          fin: fc.boolean(),
          // Runtime clocks in milliseconds, with microseconds: up to the year 2100 since the epoch.
          sentAt: fc.integer({ min: 0, max: 4.1e15 }).map((n) => n / 1000),
          sessionId: id(21, 21),
          from: id(10, 10),
          to: id(10, 10),
          user: fc.uuid(),
        }),
        (stamp) => {
          const text = stampText(stamp);
          expect(filter.check(text, ["any"])).toEqual({ action: "pass" });
          const read = parseStamp(text)!;
          expect(read).toMatchObject({
            seq: stamp.seq,
            fin: stamp.fin,
            sessionId: spelled(stamp.sessionId),
            user: spelled(stamp.user),
          });
          expect(read.sentAt).toBeCloseTo(stamp.sentAt, 3);
        },
      ),
      { numRuns: 20_000 },
    );
  });
});

describe("what a masked message looks like", () => {
  const filter = localFilter({ action: "mask" });

  it("is the text as sent, with only the matches hidden: folding is for reading, never for relaying", () => {
    expect(filter.check("ｈｅｌｌｏ ①② call +1 555 010 0200 ｐｌｅａｓｅ", ["en"])).toEqual({
      action: "mask",
      text: "ｈｅｌｌｏ ①② call ••• ｐｌｅａｓｅ",
      categories: ["contact"],
    });
    expect(filter.check("you n\u200Di\u200Dg\u200Dg\u200Der", ["en"])).toMatchObject({
      action: "mask",
      text: "you •••",
    });
  });

  it("never outgrows the length a message was let in under", () => {
    // U+FDFA folds to eighteen characters: a folded copy of this would be 36,000 long.
    const wide = `${"\uFDFA".repeat(1988)} send nudes`;
    expect(filter.check(wide, ["en"])).toEqual({
      action: "mask",
      text: `${"\uFDFA".repeat(1988)} •••`,
      categories: ["sexual"],
    });
    const many = Array.from({ length: 666 }, () => "ab").join(" "); // 1,997 characters, each "ab" a match
    const verdict = localFilter({ action: "mask", words: { any: { slur: ["ab"] } } }).check(many, ["en"]) as Verdict;
    expect(verdict.action).toBe("mask");
    expect((verdict as { text: string }).text.length).toBeLessThanOrEqual(2000);
  });
});
