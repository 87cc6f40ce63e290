import type { Messages } from "./en";

/**
 * An Arabic count and its noun: one and two are words of their own (no numeral), 3–10 take the
 * plural, 11–99 the singular in the accusative, and larger numbers follow their last two digits
 * (100, 101 and 102 take the plain singular).
 */
function counted(n: number, one: string, two: string, few: string, many: string, other = many): string {
  if (n === 1) return one;
  if (n === 2) return two;
  const rest = n % 100;
  if (rest >= 3 && rest <= 10) return `${n} ${few}`;
  if (rest >= 11) return `${n} ${many}`;
  return `${n} ${other}`;
}

// After خلال / بعد (genitive).
const secondsText = (n: number) => counted(n, "ثانية واحدة", "ثانيتين", "ثوانٍ", "ثانية");
const minutesText = (n: number) => counted(n, "دقيقة واحدة", "دقيقتين", "دقائق", "دقيقة");

export const ar: Messages = {
  languageName: "العربية",
  pageLanguage: "لغة الصفحة",
  appName: "Strangers",
  tagline: "تحدّث مع شخص يشعر بما تشعر به. لن يعرف أحد من أنت.",
  dismiss: "إغلاق",

  // ------------------------------------------------------------ consent (first visit)
  consentTitle: "قبل محادثتك الأولى",
  consentIntro: "يوصلك Strangers بشخص عشوائي لمحادثة نصية. لن يعرف أحد من أنت، فلا تكشف ذلك بنفسك.",
  consentRules: [
    "كن لطيفًا: لا كراهية ولا مضايقة ولا تهديد.",
    "لا محتوى جنسيًا، ولا أي شيء جنسي مع القاصرين.",
    "لا تشارك بيانات التواصل: تُخفى أرقام الهواتف وعناوين البريد الإلكتروني والروابط.",
    "أبلغ عن كل من يخالف هذه القواعد: لن تلتقي به مرة أخرى.",
  ],
  consentAge: (age: number) => `عمري ${counted(age, "عام واحد", "عامان", "أعوام", "عامًا", "عام")} أو أكثر`,
  consentAccept: "أوافق على إرشادات المجتمع",
  guidelines: "إرشادات المجتمع",
  terms: "شروط الاستخدام",
  privacy: "الخصوصية",
  consentContinue: "متابعة",
  consentNeeded: "يُرجى تحديد الخانتين للمتابعة.",

  // ------------------------------------------------------------ choosing
  chooseTitle: "بماذا تشعر؟",
  emotionHappy: "سعادة",
  emotionSad: "حزن",
  emotionAngry: "غضب",
  emotionAnxious: "قلق",
  emotionBored: "ملل",
  emotionExcited: "حماس",
  emotionCalm: "هدوء",
  emotionAny: "أي شيء",
  chatLanguage: "اللغة",
  yourName: "اسمك",
  optional: "(اختياري)",
  namePlaceholder: "غريب",
  interests: "الاهتمامات",
  interestsHint: "(اختياري، حتى 3، مفصولة بفواصل)",
  interestsPlaceholder: "موسيقى, شطرنج, أنمي",
  anyLanguage: "إذا لم نجد أحدًا، فتحدّث بلغات أخرى أيضًا",
  start: "ابدأ",

  // ------------------------------------------------------------ waiting
  lookingTitle: "جارٍ البحث عن شخص…",
  feeling: "الشعور:",
  feelingAnything: "أي شيء",
  wideningSoon: "قريبًا سنبحث أيضًا عن أشخاص بمشاعر مختلفة.",
  wideningNow: "نبحث الآن أيضًا عن أشخاص بمشاعر مختلفة.",
  wideningSoonBoth: "قريبًا سنبحث أيضًا عن أشخاص بمشاعر مختلفة وبلغات أخرى.",
  wideningNowSoonLanguages: "نبحث الآن أيضًا عن أشخاص بمشاعر مختلفة، وقريبًا بلغات أخرى.",
  wideningNowBoth: "نبحث الآن أيضًا عن أشخاص بمشاعر مختلفة وبلغات أخرى.",
  lookingForInterests: (list: string) => `الأولوية لمن يحب ${list} أيضًا، وإن لم يوجد فلأي شخص آخر.`,
  onlineFew: "عدد قليل من المتصلين الآن",
  // The count arrives already formatted, so the noun is kept out of agreement with it.
  online: (n: string) => `المتصلون الآن: نحو ${n}`,
  pairedWithin: (seconds: number) => `عادةً ما نجد لك شخصًا خلال ${secondsText(seconds)}`,
  pairedWithinMinutes: (minutes: number) => `عادةً ما نجد لك شخصًا خلال ${minutesText(minutes)}`,
  cancel: "إلغاء",

  // ------------------------------------------------------------ chatting
  chatTitle: "أنت الآن تتحدث مع شخص غريب",
  chatEndedTitle: "انتهت هذه المحادثة",
  theirName: "الاسم:",
  report: "إبلاغ",
  connecting: "جارٍ الاتصال…",
  connected: "متصل",
  reconnecting: "انقطع الاتصال — جارٍ إعادة الاتصال…",
  retrying: "تعذّر الوصول إلى الخادم — جارٍ إعادة المحاولة…",
  partnerDropped: "انقطع اتصال الغريب — جارٍ إعادة الاتصال…",
  chatEnded: "انتهت المحادثة",
  conversation: "المحادثة",
  typing: "الغريب يكتب…",
  messagePlaceholder: "اكتب رسالة…",
  message: "رسالة",
  send: "إرسال",
  next: "التالي",
  newStranger: "غريب جديد",
  stop: "إنهاء",
  back: "رجوع",
  you: "أنت:",
  stranger: "الغريب:",
  sending: "جارٍ الإرسال…",
  notSent: "لم يُرسَل",
  notSentTooFast: "لم تُرسَل — أنت ترسل بسرعة كبيرة",
  notSentFiltered: "لم تُرسَل — تخالف إرشادات المجتمع",
  maskedNote: "أخفى الفلتر بعض الأجزاء",
  sharedInterests: (list: string) => `كلاكما يحب ${list}.`,
  relaxedEmotion: "اختار شعورًا مختلفًا.",
  relaxedLanguage: "قد يتحدث لغة أخرى.",
  newMessages: (n: number) =>
    n === 0 ? "لا رسائل جديدة" : counted(n, "رسالة جديدة", "رسالتان جديدتان", "رسائل جديدة", "رسالة جديدة"),

  // Why a chat ended.
  endedLeft: "غادر الغريب المحادثة.",
  endedReported: "انتهت هذه المحادثة بسبب بلاغ.",
  endedYouReported: "تم الإبلاغ. لن يتم إقرانك بهذا الشخص مرة أخرى.",
  endedIdle: "انتهت المحادثة بعد صمت طويل.",
  endedExpired: "انتهت صلاحية المحادثة.",
  endedPartnerMissing: "لم يظهر الغريب أبدًا.",
  endedSuperseded: "حلّت محل هذه المحادثة محادثةٌ أحدث.",
  endedBanned: "انتهت هذه المحادثة: حُظر أحد المشاركين فيها بعد بلاغات من آخرين.",
  endedReplaced: "تستمر هذه المحادثة في علامة تبويب أخرى.",
  endedUnavailable: "لم تعد هذه المحادثة متاحة.",

  // ------------------------------------------------------------ dialogs
  confirmNext: "الانتقال إلى غريب جديد؟ ستنتهي هذه المحادثة لكليكما.",
  stay: "البقاء",
  nextStranger: "الغريب التالي",
  reportTitle: "الإبلاغ عن هذا الغريب؟ ستنتهي المحادثة ولن تلتقيا مجددًا.",
  reasonSpam: "رسائل مزعجة أو إعلانات",
  reasonHarassment: "مضايقة أو تنمّر",
  reasonSexual: "محتوى جنسي",
  reasonHate: "خطاب كراهية",
  reasonUnderage: "يبدو أنه قاصر",
  reasonOther: "سبب آخر",

  // ------------------------------------------------------------ errors the page words itself
  errorUnreachable: "تعذّر الوصول إلى الخادم. تحقق من اتصالك وحاول مجددًا.",
  errorRateLimited: "محاولات كثيرة جدًا؛ تمهّل قليلًا.",
  tryAgainIn: (seconds: number) => `حاول مجددًا بعد ${secondsText(seconds)}.`,
  bannedUntil: (until: string) => `هذا الجهاز محظور حتى ${until} بعد بلاغات من آخرين.`,
};
