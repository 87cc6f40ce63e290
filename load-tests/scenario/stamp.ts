/**
 * The text of a load-test message: a stamp a receiver reads to check delivery and pairing
 * on its own, written so the moderation filter (which every message passes, as in
 * production) reads nothing in it.
 */
/**
 * Everything a receiver needs to check delivery and pairing on its own, so no state is
 * shared between users (k6 VUs share nothing): the sender's clock, its sequence number,
 * whether it is its last message, and who it thinks it is talking to.
 */
export type Stamp = {
  seq: number;
  fin: boolean;
  sentAt: number;
  sessionId: string;
  from: string;
  to: string;
  user: string;
};

const TAG = "lt";
/**
 * Letters, so that the moderation filter, which every message passes as in production, reads
 * no phone number, link or word in a stamp: numbers in base 26 (the time in microseconds) after
 * an 8 (a digit no letter looks like, so "8fag" is no word), and ids with their digits, dashes
 * and underscores spelled as capitals, compared in that spelling on both sides.
 */
const LETTERS = "abcdefghijklmnopqrstuvwxyz";
const SPELLED = "ABCDEFGHIJKL";
const NOT_LETTERS = "0123456789-_";

function inLetters(n: number): string {
  let s = "";
  for (let rest = Math.max(0, Math.round(n)); s === "" || rest > 0; rest = Math.floor(rest / 26))
    s = LETTERS[rest % 26] + s;
  return `8${s}`;
}
const NUMBER_IN_LETTERS = /^8[a-z]+$/;
const fromLetters = (s: string): number => [...s.slice(1)].reduce((n, c) => n * 26 + LETTERS.indexOf(c), 0);
export const spelled = (id: string): string => id.replace(/[0-9_-]/g, (c) => SPELLED[NOT_LETTERS.indexOf(c)]);

export function stampText(s: Stamp): string {
  const ids = [s.sessionId, s.from, s.to, s.user].map(spelled);
  return [TAG, inLetters(s.seq), s.fin ? "y" : "n", inLetters(s.sentAt * 1000), ...ids].join("|");
}
/** The stamp as sent, its ids in their spelled form. */
export function parseStamp(text: string): Stamp | null {
  const p = text.split("|");
  // A stamp the filter had touched would read as nonsense: better none at all.
  if (
    p.length !== 8 ||
    p[0] !== TAG ||
    !NUMBER_IN_LETTERS.test(p[1]) ||
    !NUMBER_IN_LETTERS.test(p[3]) ||
    !/^[yn]$/.test(p[2])
  )
    return null;
  return {
    seq: fromLetters(p[1]),
    fin: p[2] === "y",
    sentAt: fromLetters(p[3]) / 1000,
    sessionId: p[4],
    from: p[5],
    to: p[6],
    user: p[7],
  };
}
