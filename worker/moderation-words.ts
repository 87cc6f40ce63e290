/**
 * The built-in word lists of the moderation filter, by language. Short on purpose: the most
 * common slurs and sexual solicitations, which is what strangers actually type; an operator adds
 * the rest through MODERATION_WORDS. Entries are written in plain letters, and the matcher adds
 * what people do to get past a list: look-alike digits and symbols, repeated letters, any
 * punctuation or spacing between the words of a phrase.
 *
 * An entry is matched as whole words, so a list never needs to worry about "class" or
 * "Scunthorpe", except in Japanese, written without spaces, where entries match inside text:
 * those must not be part of an ordinary word (ガイジ is left out: it is inside ガイジン).
 * A word that is ordinary in another language belongs only to the list where it offends
 * ("randi" is a Hindi slur and an English name); "any" is for what offends in every chat.
 */
export type WordLists = { [language: string]: { slur?: string[]; sexual?: string[] } };

export const BUILT_IN_WORDS: WordLists = {
  // English internet slang, used in chats of every language.
  any: {
    slur: ["nigger", "nigga"],
    sexual: ["send nudes", "send me nudes", "nudes", "dick pic", "dickpic", "sexting"],
  },
  en: {
    slur: [
      "nigger", "nigga", "faggot", "fag", "tranny", "trannies", "retard", "retarded", "kike", "spic",
      "wetback", "beaner", "gook", "paki", "raghead", "towelhead", "dyke", "whore", "slut", "cunt",
      "bitch", "bitches",
    ],
    sexual: [
      "send nudes", "send me nudes", "nudes", "sext", "wanna sext", "sexting", "wanna have sex",
      "wanna fuck", "want to fuck", "dtf", "horny", "dick pic", "cock pic", "show me your body",
      "show me your boobs", "show me your tits", "are you naked", "r u naked", "get naked",
      "suck my dick", "suck my cock", "blowjob", "cybersex", "jerk off",
    ],
  },
  es: {
    slur: [
      "puta", "puto", "hijo de puta", "hija de puta", "maricón", "maricon", "maricones", "marica",
      "joto", "sudaca", "negrata", "tortillera", "bollera", "zorra", "pendejo", "gilipollas",
      "mongólico", "subnormal", "sidoso",
    ],
    sexual: [
      "manda nudes", "mándame nudes", "mandame nudes", "pásame el pack", "pasame el pack",
      "fotos desnuda", "estás desnuda", "estas desnuda", "quieres sexo", "sexo", "quieres follar",
      "follar", "cachonda", "cachondo", "chúpamela", "chupamela", "enséñame las tetas",
      "muéstrame tu cuerpo", "sexting",
    ],
  },
  pt: {
    slur: [
      "puta", "filho da puta", "vadia", "vagabunda", "viado", "bichona", "sapatão", "sapatao",
      "traveco", "arrombado", "baitola", "boiola", "retardado", "otário", "otario", "cuzão", "cuzao",
    ],
    sexual: [
      "manda nudes", "me manda nudes", "foto pelada", "manda foto pelada", "tá pelada", "ta pelada",
      "está pelada", "quer transar", "bora transar", "transar", "quer foder", "sexo", "tesão",
      "tesao", "mostra os peitos", "mostra o corpo", "chupa meu pau", "sexting",
    ],
  },
  fr: {
    slur: [
      "salope", "pute", "fils de pute", "pédé", "pd", "enculé", "nègre", "négro", "bougnoule",
      "bicot", "youpin", "gouine", "tapette", "tarlouze", "connard", "connasse", "pétasse", "chintok",
    ],
    sexual: [
      "envoie des nudes", "envoie nudes", "t'es nue", "tu es nue", "es-tu nue", "photo nue",
      "tu veux baiser", "on baise", "sexe", "plan cul", "t'es chaude", "montre tes seins",
      "montre ton corps", "suce ma bite", "ma bite",
    ],
  },
  de: {
    slur: [
      "Schlampe", "Hure", "Hurensohn", "Nutte", "Fotze", "Schwuchtel", "Tunte", "Neger", "Kanake",
      "Spast", "Spasti", "Missgeburt", "Zigeuner", "Kameltreiber", "Judensau",
    ],
    sexual: [
      "schick nudes", "schick mir nudes", "Nacktbilder", "Nacktfotos", "bist du nackt",
      "zeig dich nackt", "zeig mir deine Brüste", "zeig deine Titten", "willst du ficken", "ficken",
      "bist du geil", "lutsch meinen Schwanz", "Schwanzbild", "sexting",
    ],
  },
  it: {
    slur: [
      "puttana", "figlio di puttana", "troia", "zoccola", "frocio", "ricchione", "culattone",
      "lesbicona", "stronzo", "stronza", "bastardo", "mongoloide", "terrone",
    ],
    sexual: [
      "manda nudes", "mandami nudes", "foto nuda", "sei nuda", "sei nudo", "vuoi scopare", "scopare",
      "scopiamo", "sesso", "sei eccitata", "sei arrapata", "fammi vedere le tette",
      "mostrami il tuo corpo", "succhiamelo", "pompino",
    ],
  },
  hi: {
    slur: [
      "रंडी", "randi", "हरामी", "harami", "हरामज़ादा", "haramzada", "चूतिया", "chutiya", "chutiye",
      "भड़वा", "bhadwa", "मादरचोद", "madarchod", "बहनचोद", "behenchod", "bhenchod", "भोसड़ीके",
      "bhosdike", "गांडू", "gandu", "कुतिया", "kutiya", "कमीना", "kamina", "चमार", "कटुआ", "katua",
    ],
    sexual: [
      "nudes bhejo", "nude bhejo", "न्यूड भेजो", "nangi photo", "नंगी फोटो", "nangi", "नंगी",
      "sex karogi", "sex karoge", "सेक्स करोगी", "chudai", "चुदाई", "chodna hai", "चोदना",
      "boobs dikhao", "body dikhao", "बॉडी दिखाओ", "lund chuso", "लंड चूसो", "chut dikhao",
    ],
  },
  ar: {
    slur: [
      "شرموطة", "شرموط", "sharmouta", "sharmoota", "charmouta", "قحبة", "kahba", "ga7ba", "عاهرة",
      "خول", "khawal", "كس امك", "كس أمك", "kos omak", "kuss ummak", "ابن الكلب", "ibn el kalb",
      "متناك", "metnak", "منيوك", "زنجي", "لوطي",
    ],
    sexual: [
      "صور عارية", "صورة عارية", "عريانة", "3aryana", "نودز", "ابعتي نودز", "سكس", "نيك", "نيكني",
      "neek", "ممحونة", "ma7mouna", "هايجة", "وريني جسمك", "فرجيني جسمك", "warini jismek",
    ],
  },
  ja: {
    slur: [
      "キチガイ", "きちがい", "気違い", "ニガー", "黒んぼ", "くろんぼ", "支那人", "シナ人", "チョン公",
      "ヤリマン", "やりまん", "ヤリチン", "ホモ野郎", "オカマ野郎", "ビッチ",
    ],
    sexual: [
      "エッチしよ", "エッチしたい", "えっちしよ", "えっちしたい", "セックスしよ", "セックスしたい",
      "セックス", "セフレ", "裸の写真", "裸見せて", "裸みせて", "おっぱい見せて", "おっぱいみせて",
      "ヌード送って", "エロ写真", "パパ活", "援交", "オナニー", "ちんこ", "まんこ", "ムラムラ",
    ],
  },
};
