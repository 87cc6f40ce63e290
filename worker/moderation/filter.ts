/**
 * The message filter: every chat message passes it before the room stores or relays it. The
 * default is local and synchronous — word lists by language, plus contact details and links,
 * which strangers use to take a chat somewhere unmoderated — and an operator may ask a Workers
 * AI classifier after it (setup.ts). A filter that cannot decide lets the message through: a chat that
 * stops because a classifier is down is worse than one unfiltered message.
 *
 * It runs on every message, so patterns are compiled once per set of languages, and each is
 * written so that no input of a message's length makes it backtrack for long.
 */
import { LIMITS } from "@strangers/protocol";
import { BUILT_IN_WORDS, type WordLists } from "./words";

export type { WordLists };
export type FilterCategory = "slur" | "sexual" | "contact" | "link";
export type FilterAction = "mask" | "refuse";
export type Verdict =
  | { action: "pass" }
  | { action: "mask"; text: string; categories: FilterCategory[] }
  | { action: "refuse"; categories: FilterCategory[] };
/** `languages`: the chat's languages as BCP 47 primary tags ("en", "es"…); "any" in it means every list applies. */
export interface MessageFilter {
  check(text: string, languages: readonly string[]): Verdict | Promise<Verdict>;
}

/** The order categories are reported in, whatever order they were found in. */
export const CATEGORIES: readonly FilterCategory[] = ["slur", "sexual", "contact", "link"];
export const MASK = "•••";
export const PASS: Verdict = { action: "pass" };
const ANY = "any";

// ---------------------------------------------------------------- word lists

const WORD_CHAR = String.raw`[\p{L}\p{M}\p{N}]`;
/**
 * Between the words of a phrase: any spacing or punctuation, or none ("send_nudes", "dickpic").
 * Spelled out (ASCII, Latin-1, general, Arabic, Devanagari, CJK and full-width punctuation):
 * a Unicode property class would be compiled again in every phrase of every list.
 */
const WORD_GAP = String.raw`[\s\u0021-\u002F\u003A-\u0040\u005B-\u0060\u007B-\u007E\u00A1-\u00BF\u060C\u061B\u061F\u0964\u0965\u2010-\u205E\u3000-\u303F\uFF01-\uFF20\uFF3B-\uFF40\uFF5B-\uFF65]*`;
/** The look-alikes people type for a letter. No accent folding: "año" and "ano" are different words. */
const LOOKALIKES: Record<string, string> = { a: "a4@", e: "e3", i: "i1", l: "l1", o: "o0", s: "s5$", t: "t7" };
/** Japanese is written without spaces: its entries match inside text. */
const UNSPACED_SCRIPT = /[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]/u;
const ARABIC = /\p{Script=Arabic}/u;
/** Tatweel only stretches a letter ("شـرمـوطة"). */
const TATWEEL = "\u0640*";

/**
 * "sex" → `[s5$][s5]*[e3][e3]*xx*`: each letter may be repeated or replaced by a look-alike,
 * and the pattern runs on the text as written, so what it matches are offsets in the original.
 * A letter's repeats are never "$" or "@", and a run of one letter is one quantifier ("ss" →
 * `[s5$]{2}[s5]*`): no two quantifiers compete for the same characters, and no run of symbols
 * is read to its end from each of its characters. Japanese letters are matched as written:
 * they are searched for at every position.
 */
function wordPattern(word: string): string {
  let pattern = "";
  for (const [run, letter] of word.matchAll(/(.)\1*/gsu)) {
    const length = [...run].length;
    if (UNSPACED_SCRIPT.test(letter)) {
      pattern += length > 1 ? `${letter}{${length}}` : letter;
      continue;
    }
    const lookalikes = LOOKALIKES[letter];
    const first = lookalikes ? `[${lookalikes}]` : letter;
    const again = lookalikes ? `[${lookalikes.replace(/[$@]/g, "")}]` : letter;
    pattern += `${length > 1 ? `${first}{${length}}` : first}${again}*${ARABIC.test(letter) ? TATWEEL : ""}`;
  }
  // A plural "s" on a Latin word ("sluts", "putas"); a word that already ends in s has its run.
  return /[a-rt-z]$/.test(word) ? `${pattern}[s5]*` : pattern;
}

function entryPattern(entry: string): string {
  const words = entry
    .normalize("NFKC")
    .replace(JOINERS, "")
    .toLowerCase()
    .split(/[^\p{L}\p{M}\p{N}]+/u)
    .filter(Boolean);
  return words.map(wordPattern).join(WORD_GAP);
}

/** One pattern for a category's entries: whole words, except Japanese; null when there are none. */
function wordsRegExp(entries: Iterable<string>): RegExp | null {
  const spaced = new Set<string>();
  const unspaced = new Set<string>();
  for (const entry of entries) {
    const pattern = entryPattern(entry);
    if (pattern) (UNSPACED_SCRIPT.test(entry) ? unspaced : spaced).add(pattern);
  }
  // Longest first, so a phrase wins over a word it starts with.
  const alternatives = (patterns: Set<string>) => [...patterns].sort((a, b) => b.length - a.length).join("|");
  const parts: string[] = [];
  if (spaced.size) parts.push(`(?<!${WORD_CHAR})(?:${alternatives(spaced)})(?!${WORD_CHAR})`);
  if (unspaced.size) parts.push(`(?:${alternatives(unspaced)})`);
  return parts.length ? new RegExp(parts.join("|"), "giu") : null;
}

type WordPatterns = { slur: RegExp | null; sexual: RegExp | null };

function mergeWordLists(...sources: WordLists[]): WordLists {
  const merged: WordLists = {};
  for (const source of sources) {
    for (const [language, lists] of Object.entries(source)) {
      const into = (merged[language.toLowerCase()] ??= {});
      into.slur = [...(into.slur ?? []), ...(lists.slur ?? [])];
      into.sexual = [...(into.sexual ?? []), ...(lists.sexual ?? [])];
    }
  }
  return merged;
}

// ---------------------------------------------------------------- contact details and links

/** Separators inside a phone number: "+44 (20) 7946-0958", "06.12.34.56.78", "0171/1234567". */
const PHONE = String.raw`\+?\(?\p{Nd}(?:[ \u00A0.\-()/]{0,3}\p{Nd}){6,}`;
/**
 * Digit runs that only look like phone numbers, matched first so the phone pattern never sees
 * them: dates ("2024-05-01", "01.05.2024", not followed by more of the same) and amounts
 * grouped in thousands after one or two digits ("1.299.000", "1 000 000").
 */
const DATE = String.raw`(?:\p{Nd}{4}[\-./]\p{Nd}{1,2}[\-./]\p{Nd}{1,2}|\p{Nd}{1,2}[\-./]\p{Nd}{1,2}[\-./]\p{Nd}{2,4})(?![\-./]\p{Nd})`;
const AMOUNT = String.raw`(?!0)\p{Nd}{1,2}(?:[., \u00A0\u202F]\p{Nd}{3})+(?:[.,]\p{Nd}{1,2})?(?![., \u00A0\u202F]?\p{Nd})`;

const EMAIL_LOCAL = String.raw`(?<![\p{L}\p{N}._%+\-])[\p{L}\p{N}._%+\-]+`;
const DOMAIN_LABEL = String.raw`[\p{L}\p{N}\-]+`;
/** Top-level domains that are not also words (for a dot typed without the space after it). */
const TLDS =
  "com|net|org|io|ly|xyz|ru|br|biz|info|tv|cc|tk|ml|cf|gq|uk|fr|pt|jp|cn|ws|pw|vip|dev|icu|mx|ua|pl|nl|app|site|online|link|club|shop|store|onion";
/** Top-level domains that are words ("ok.me", "tomorrow.in"): a link only with a path ("t.me/…"). */
const WORD_TLDS = "me|in|to|be|co|gg|de|es|it|us|eu|au|su|ca|ar|se|la|so|no|my|do|go|at|top|fun|live|lol";
const BRACKETED = (word: string) => String.raw`\s*[(\[{]\s*${word}\s*[)\]}]\s*`;
/** Mail providers whose name alone says "e-mail address": "ana.b at gmail". */
const MAIL_PROVIDER = "gmail|googlemail|hotmail|outlook|yahoo|icloud|proton(?:mail)?|yandex|gmx|aol|msn|mail\\.ru";
/** A local part that looks like an address, not a word: it has a dot, an underscore or a digit ("ana.b", "ana_b22"; not "work"). */
const ADDRESS_LIKE_LOCAL = String.raw`(?<![\p{L}\p{N}._%+\-])(?=[\p{L}\p{N}._%+\-]*[._\p{N}])[\p{L}\p{N}._%+\-]+`;
/** "name@gmail.com", and the ways people spell it to get past a filter: "name at gmail dot com", "name(at)gmail(dot)com", "name [at] gmail . com", "ana.b at gmail". */
const EMAIL = [
  String.raw`${EMAIL_LOCAL}@${DOMAIN_LABEL}(?:\.${DOMAIN_LABEL})*\.\p{L}{2,}`,
  String.raw`${EMAIL_LOCAL}(?:(?:\s*@\s*|${BRACKETED("at")})${DOMAIN_LABEL}(?:\s*\.\s*|${BRACKETED("dot")}|\s+dot\s+)|\s+at\s+${DOMAIN_LABEL}(?:\.|${BRACKETED("dot")}|\s+dot\s+))(?:${TLDS}|${WORD_TLDS})(?![\p{L}\p{N}])`,
  String.raw`${ADDRESS_LIKE_LOCAL}(?:\s*@\s*|\s+at\s+|${BRACKETED("at")})(?:${MAIL_PROVIDER})(?![\p{L}\p{N}])`,
].join("|");

const PLATFORM = String.raw`(?:snap(?:chat)?|insta(?:gram)?|ig|telegram|tg|whats?app|wa|kik|discord|tiktok|skype|wechat|viber|line\s?id|fb|facebook|twitter|onlyfans)`;
const HANDLE = String.raw`@?[\p{L}\p{N}_.]{2,30}`;
/** After "my snap is", a handle must look like one: "@foo", or with a digit or underscore ("foo_bar", not "private"). */
const HANDLE_LIKE = String.raw`(?:@[\p{L}\p{N}_.]{2,30}|(?=[\p{L}\p{N}_.]{0,29}[\p{N}_])[\p{L}\p{N}_.]{3,30})`;
/** What follows a platform's name when it is an offer: "snap: foo_bar", "ig id = foo", "insta is @foo", "mi insta es @foo", "telegram @foo", "insta, ana_b22". */
const OFFERED_HANDLE = String.raw`(?:\s*(?:id|name|username|handle))?(?:\s*[:=]\s*${HANDLE}|\s*,\s*${HANDLE_LIKE}|(?:\s+(?:is|es|é|est|ist|è))?\s+${HANDLE_LIKE})`;
const SOCIAL = [
  `${PLATFORM}${OFFERED_HANDLE}`,
  String.raw`(?:add|follow|dm|message|text|hit|find)\s+me\s+(?:up\s+)?(?:on|at|in)\s+${PLATFORM}(?:${OFFERED_HANDLE})?`,
  String.raw`(?:whats?app|kik|snap(?:chat)?|telegram|insta(?:gram)?|discord)\s+me`,
  String.raw`kik\s+${HANDLE}`,
]
  .map((form) => String.raw`(?<![\p{L}\p{N}_])${form}`)
  .join("|");

/** A match of the `harmless` group is skipped: it is there to keep dates and amounts from the phone pattern. */
const CONTACT = new RegExp(`(?<harmless>${DATE}|${AMOUNT})|${EMAIL}|${SOCIAL}|${PHONE}`, "giu");

/** "example.com", "example(.)com", "example [dot] com" — but "node.js", "e.g.", "ok.bye" are not links. */
const LINK_DOT = String.raw`(?:\.|\s*[(\[{]\s*(?:\.|dot)\s*[)\]}]\s*)`;
/** "example dot com": spelled out only before the common domains, or "polka dot top" would be a link. */
const SPELLED_DOMAIN = String.raw`(?<![\p{L}\p{N}@._\-])${DOMAIN_LABEL}\s+dot\s+(?:com|net|org|io|ru|xyz)(?![\p{L}\p{N}])`;
/** The rest of a link, less the punctuation of the sentence it ends ("see bit.ly/x, then…"). */
const LINK_REST = String.raw`(?:\S*[^\s.,!?;:'")\]}>])?`;
const BARE_DOMAIN = String.raw`(?<![\p{L}\p{N}@._\-])${DOMAIN_LABEL}(?:${LINK_DOT}${DOMAIN_LABEL})*${LINK_DOT}(?:(?:${TLDS})(?![\p{L}\p{N}])(?:/${LINK_REST})?|(?:${WORD_TLDS})/${LINK_REST})`;
const LINK = new RegExp(
  String.raw`(?<![\p{L}\p{N}])(?:(?:https?|ftp|hxxps?)://|www\d?\.)${LINK_REST}|${BARE_DOMAIN}|${SPELLED_DOMAIN}`,
  "giu",
);

// ---------------------------------------------------------------- matching

type Span = { start: number; end: number; category: FilterCategory };

function spansOf(pattern: RegExp | null, text: string, category: FilterCategory): Span[] {
  const spans: Span[] = [];
  if (!pattern) return spans;
  // Shared global patterns: safe, because a check runs to its end before another starts.
  pattern.lastIndex = 0;
  for (let m = pattern.exec(text); m; m = pattern.exec(text)) {
    if (m[0] === "") pattern.lastIndex += 1;
    else if (m.groups?.harmless === undefined) spans.push({ start: m.index, end: m.index + m[0].length, category });
  }
  return spans;
}

const within = (span: Span, others: Span[]) => others.some((o) => o.start <= span.start && span.end <= o.end);

function findSpans(text: string, words: WordPatterns): Span[] {
  const contact = spansOf(CONTACT, text, "contact");
  // The domain of an e-mail address is part of the address, not a link of its own.
  const links = spansOf(LINK, text, "link").filter((link) => !within(link, contact));
  return [...spansOf(words.slur, text, "slur"), ...spansOf(words.sexual, text, "sexual"), ...contact, ...links];
}

/** Every span replaced by one mask; overlapping and touching spans become one. */
function masked(text: string, spans: Span[]): string {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  let out = "";
  let copiedTo = 0;
  for (let i = 0; i < sorted.length; ) {
    const start = sorted[i].start;
    let end = sorted[i].end;
    for (i += 1; i < sorted.length && sorted[i].start <= end; i += 1) end = Math.max(end, sorted[i].end);
    out += text.slice(copiedTo, start) + MASK;
    copiedTo = end;
  }
  return out + text.slice(copiedTo);
}

function verdictOn(text: string, spans: Span[], action: FilterAction): Verdict {
  if (!spans.length) return PASS;
  const categories = CATEGORIES.filter((c) => spans.some((s) => s.category === c));
  if (action === "refuse") return { action, categories };
  // Masks of three characters over matches of two could outgrow the limit a message was let in under.
  const hidden = masked(text, spans);
  return { action, text: hidden.length <= LIMITS.messageLength ? hidden : MASK, categories };
}

/**
 * Joiners stay in messages (emoji sequences and Indic scripts need them), but a word may hide
 * one between its letters; and combining marks that only decorate (underlined "s̲e̲x̲", struck
 * through, stacked accents) are read past. Text reaches the filter in NFC, so an accent that
 * belongs to a letter ("año") is part of that letter, not one of these.
 */
const JOINERS = /[\u200C\u200D]/g;
const READ_PAST_CHARS = String.raw`[\u200C\u200D\u0300-\u036F\u1AB0-\u1AFF\u1DC0-\u1DFF\u20D0-\u20FF\uFE20-\uFE2F]`;
const READ_PAST = new RegExp(READ_PAST_CHARS, "g");
const HAS_READ_PAST = new RegExp(READ_PAST_CHARS);
const ASCII = /^[\u0000-\u007F]*$/;

/**
 * The text as the patterns read it: compatibility letters folded (NFKC: "ｎｉｇｇｅｒ", "①"),
 * joiners and decorations dropped ("nig\u200Dger", "s̲e̲x̲"); and, for each folded character, the original characters it
 * came from, so that a match is masked in the text as written. The rest of a message is relayed
 * exactly as sent (folding alone can make one character eighteen).
 */
function fold(text: string): { folded: string; start: number[]; end: number[] } | null {
  // Most text, in any script, is already folded: only compatibility letters, joiners and decorations pay for the map.
  if (ASCII.test(text) || (!HAS_READ_PAST.test(text) && text.normalize("NFKC") === text)) return null;
  let folded = "";
  const start: number[] = [];
  const end: number[] = [];
  let at = 0;
  for (const char of text) {
    const plain = char.replace(READ_PAST, "").normalize("NFKC");
    // A character read past belongs to the one before it: a mask there covers it too.
    if (!plain && end.length) end[end.length - 1] = at + char.length;
    for (let i = 0; i < plain.length; i++) {
      start.push(at);
      end.push(at + char.length);
    }
    folded += plain;
    at += char.length;
  }
  return folded === text ? null : { folded, start, end };
}

/** The built-in lists with `words` added; no network, so it answers at once. */
export function localFilter({ action, words = {} }: { action: FilterAction; words?: WordLists }): MessageFilter {
  const lists = mergeWordLists(BUILT_IN_WORDS, words);
  const known = Object.keys(lists).filter((language) => language !== ANY);
  // Keyed by the chat's languages that have lists, so tags without one never grow the cache.
  const compiled = new Map<string, WordPatterns>();
  const patternsFor = (languages: readonly string[]): WordPatterns => {
    const tags = languages.map((l) => l.toLowerCase());
    const chosen = tags.includes(ANY) ? known : known.filter((l) => tags.includes(l)).sort();
    const key = chosen.join(",");
    let patterns = compiled.get(key);
    if (!patterns) {
      const applying = [lists[ANY] ?? {}, ...chosen.map((l) => lists[l])];
      patterns = {
        slur: wordsRegExp(applying.flatMap((l) => l.slur ?? [])),
        sexual: wordsRegExp(applying.flatMap((l) => l.sexual ?? [])),
      };
      compiled.set(key, patterns);
    }
    return patterns;
  };
  return {
    check(text, languages) {
      const patterns = patternsFor(languages);
      const read = fold(text);
      if (!read) return verdictOn(text, findSpans(text, patterns), action);
      const spans = findSpans(read.folded, patterns).map((s) => ({
        ...s,
        start: read.start[s.start],
        end: read.end[s.end - 1],
      }));
      return verdictOn(text, spans, action);
    },
  };
}

/** A filter that asks `next` only when `first` passes (e.g. local lists, then a Workers AI classifier). */
export function chain(first: MessageFilter, next: MessageFilter): MessageFilter {
  return {
    async check(text, languages) {
      const verdict = await first.check(text, languages);
      return verdict.action === "pass" ? next.check(text, languages) : verdict;
    },
  };
}
