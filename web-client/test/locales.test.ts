import { LANGUAGES } from "@strangers/protocol";
import { describe, expect, it } from "vitest";
import { en } from "../src/locales/en";
import { LOCALES } from "../src/locales/index";

/** Sample values for the texts that place one: counts (plural forms differ at 1, 2, 3–10, 11…), or a ready-made string. */
const NUMBERS = [0, 1, 2, 3, 11, 25, 100];
const STRINGS = ["12", "chess and music", "1/12/2026, 15:00"];
const TAKES_A_NUMBER = new Set(["consentAge", "pairedWithin", "pairedWithinMinutes", "tryAgainIn", "newMessages"]);

describe("the page's text", () => {
  it("is there in every language the picker offers", () => {
    expect(Object.keys(LOCALES).sort()).toEqual([...LANGUAGES].sort());
  });

  it.each(Object.entries(LOCALES))(
    "in %s has every English key, in the same shape, and reads as text",
    (_code, messages) => {
      expect(Object.keys(messages).sort()).toEqual(Object.keys(en).sort());
      for (const [key, reference] of Object.entries(en)) {
        const value = (messages as Record<string, unknown>)[key];
        expect(typeof value, key).toBe(typeof reference);
        if (Array.isArray(reference)) expect((value as string[]).length, key).toBe(reference.length);
        if (typeof reference === "string") expect((value as string).trim(), key).not.toBe("");
        if (typeof reference === "function") {
          expect(reference.length, key).toBe(1);
          // Every text that places a value says something whatever the value, and never "undefined".
          for (const sample of TAKES_A_NUMBER.has(key) ? NUMBERS : STRINGS) {
            const text = (value as (v: unknown) => string)(sample);
            expect(text, `${key}(${sample})`).toMatch(/\S/);
            expect(text, key).not.toMatch(/undefined|NaN|\[object/);
          }
        }
      }
    },
  );
});
