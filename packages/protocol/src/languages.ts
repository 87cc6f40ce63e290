/**
 * Languages by name as well as by tag: "English", "español", "日本語" and "Português (Brasil)"
 * are "en", "es", "ja" and "pt". The names are the runtime's own (`Intl.DisplayNames`) for every
 * ISO 639-1 code, in English and in the language itself, so no word list is kept here.
 */

/** The ISO 639-1 two-letter codes. */
const ISO_639_1 = (
  "aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee el en eo es " +
  "et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj " +
  "kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv " +
  "ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti " +
  "tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu"
).split(" ");

/** One spelling of a name: no accents, lower case, without a region in brackets, single spaces. */
const folded = (name: string): string =>
  name
    .normalize("NFD")
    .replace(/\p{Mn}/gu, "")
    .toLowerCase()
    .replace(/\(.*?\)|（.*?）/g, " ")
    .replace(/\s+/g, " ")
    .trim();

let byName: Map<string, string> | null = null;

function names(): Map<string, string> {
  if (byName) return byName;
  byName = new Map();
  const english = new Intl.DisplayNames(["en"], { type: "language", fallback: "none" });
  for (const code of ISO_639_1) {
    let own: string | undefined;
    try {
      own = new Intl.DisplayNames([code], { type: "language", fallback: "none" }).of(code);
    } catch {
      // A locale the runtime has no data for: its English name still counts.
    }
    for (const name of [english.of(code), own]) if (name && !byName.has(folded(name))) byName.set(folded(name), code);
  }
  return byName;
}

/** The tag of a language named in English or in its own words, or null. */
export const languageByName = (name: string): string | null => names().get(folded(name)) ?? null;
