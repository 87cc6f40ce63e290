/**
 * The page's own text in English: the reference every other locale must match key for key
 * (the `Messages` type makes a missing or extra key a build error). Functions take the
 * values they place; plurals and number formats are the locale's own business.
 */
export const en = {
  // Each locale's name for itself, as the page-language menu shows it.
  languageName: "English",
  pageLanguage: "Page language",
  appName: "Strangers",
  tagline: "Talk to someone who feels the same. Nobody learns who you are.",
  dismiss: "Dismiss",

  // ------------------------------------------------------------ consent (first visit)
  consentTitle: "Before your first chat",
  consentIntro:
    "Strangers pairs you with a random person for a text chat. Nobody learns who you are, and nobody should learn it from you.",
  consentRules: [
    "Be kind: no hate, harassment or threats.",
    "No sexual content, and nothing sexual with anyone under age.",
    "Don't share contact details: phone numbers, e-mail addresses and links are hidden.",
    "Report anyone who breaks these rules: they won't be paired with you again.",
  ],
  consentAge: (age: number) => `I am ${age} or older`,
  consentAccept: "I accept the community guidelines",
  guidelines: "Community guidelines",
  terms: "Terms of use",
  privacy: "Privacy",
  consentContinue: "Continue",
  consentNeeded: "Please confirm both to continue.",

  // ------------------------------------------------------------ choosing
  chooseTitle: "How are you feeling?",
  emotionHappy: "Happy",
  emotionSad: "Sad",
  emotionAngry: "Angry",
  emotionAnxious: "Anxious",
  emotionBored: "Bored",
  emotionExcited: "Excited",
  emotionCalm: "Calm",
  emotionAny: "Anything",
  chatLanguage: "Language",
  yourName: "Your name",
  optional: "(optional)",
  namePlaceholder: "Stranger",
  interests: "Interests",
  interestsHint: "(optional, up to 3, separated by commas)",
  interestsPlaceholder: "music, chess, anime",
  anyLanguage: "If nobody is found, also talk in other languages",
  start: "Start",

  // ------------------------------------------------------------ waiting
  lookingTitle: "Looking for someone…",
  feeling: "Feeling",
  feelingAnything: "anything",
  wideningSoon: "Soon we'll also look for people feeling differently.",
  wideningNow: "Now also looking for people feeling differently.",
  wideningSoonBoth: "Soon we'll also look for people feeling differently, and in other languages.",
  wideningNowSoonLanguages: "Now also looking for people feeling differently. Other languages soon.",
  wideningNowBoth: "Now also looking for people feeling differently, and in other languages.",
  lookingForInterests: (list: string) => `Someone who also likes ${list} comes first; anyone else if nobody does.`,
  onlineFew: "A few people online",
  online: (n: string) => `About ${n} people online`,
  pairedWithin: (seconds: number) => `Usually paired within ${seconds} s`,
  pairedWithinMinutes: (minutes: number) => `Usually paired within ${minutes} min`,
  cancel: "Cancel",

  // ------------------------------------------------------------ chatting
  chatTitle: "You're now chatting with a stranger",
  chatEndedTitle: "This chat has ended",
  theirName: "Their name:",
  report: "Report",
  connecting: "Connecting…",
  connected: "Connected",
  reconnecting: "Connection lost — reconnecting…",
  retrying: "Can't reach the server — retrying…",
  partnerDropped: "Stranger's connection dropped — reconnecting…",
  chatEnded: "Chat ended",
  conversation: "Conversation",
  typing: "Stranger is typing…",
  messagePlaceholder: "Type a message…",
  message: "Message",
  send: "Send",
  next: "Next",
  newStranger: "New stranger",
  stop: "Stop",
  back: "Back",
  you: "You:",
  stranger: "Stranger:",
  sending: "sending…",
  notSent: "Not sent",
  notSentTooFast: "Not sent — you're sending too fast",
  notSentFiltered: "Not sent — it breaks the community guidelines",
  maskedNote: "Parts were hidden by the filter",
  sharedInterests: (list: string) => `You both like ${list}.`,
  relaxedEmotion: "They chose a different feeling.",
  relaxedLanguage: "They may speak another language.",
  newMessages: (n: number) => (n === 1 ? "New message" : `${n} new messages`),

  // Why a chat ended.
  endedLeft: "Stranger has disconnected.",
  endedReported: "This chat was ended by a report.",
  endedYouReported: "Reported. You won't be matched with this person again.",
  endedIdle: "The chat ended after a long silence.",
  endedExpired: "The chat expired.",
  endedPartnerMissing: "The stranger never showed up.",
  endedSuperseded: "This chat was replaced by a newer one.",
  endedBanned: "This chat ended: someone in it was banned after reports from other people.",
  endedReplaced: "This chat continues in another tab.",
  endedUnavailable: "This chat is no longer available.",

  // ------------------------------------------------------------ dialogs
  confirmNext: "Skip to a new stranger? This chat ends for both of you.",
  stay: "Stay",
  nextStranger: "Next stranger",
  reportTitle: "Report this stranger? The chat ends and you won't meet them again.",
  reasonSpam: "Spam or advertising",
  reasonHarassment: "Harassment or bullying",
  reasonSexual: "Sexual content",
  reasonHate: "Hate speech",
  reasonUnderage: "They seem to be under age",
  reasonOther: "Something else",

  // ------------------------------------------------------------ errors the page words itself
  errorUnreachable: "Can't reach the server. Check your connection and try again.",
  errorRateLimited: "Too many attempts; slow down.",
  tryAgainIn: (seconds: number) => `Try again in ${seconds} s.`,
  bannedUntil: (until: string) => `This device is banned until ${until} after reports from other people.`,
};

type Entry = string | readonly string[] | ((...args: never[]) => string);
/** What every locale provides: the same keys as English, each of the same shape. */
export type Messages = {
  [K in keyof typeof en]: (typeof en)[K] extends (...args: infer A) => string
    ? (...args: A) => string
    : (typeof en)[K] extends readonly string[]
      ? readonly string[]
      : string;
};
export type MessageKey = keyof Messages;
en satisfies Record<string, Entry>;
