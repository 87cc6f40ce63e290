/**
 * The page's own text in the languages the language picker offers. The page follows the
 * browser's languages unless the person picked one (kept on the device); `?lang=` overrides
 * both, for links and tests. Static text is marked in index.html with `data-i18n` (its
 * textContent), `data-i18n-placeholder` and `data-i18n-label` (aria-label), so English shows
 * before this runs and nothing flashes.
 */
import { LOCALES, type Locale, type MessageKey, type Messages } from "./locales/index";

export { LOCALES, type Locale };

const RIGHT_TO_LEFT: ReadonlySet<Locale> = new Set(["ar"]);
const CHOSEN_KEY = "strangers.pageLanguage";

const isLocale = (tag: string | null | undefined): tag is Locale => !!tag && tag in LOCALES;
const primary = (tag: string) => tag.toLowerCase().split(/[-_]/)[0];

/** The text in use; `setLocale` swaps it. */
export let t: Messages = LOCALES.en;
export let locale: Locale = "en";

/** The first language a person asked for that the page speaks: the query, their pick, then the browser's list. */
export function preferredLocale(): Locale {
  const wanted = [
    new URLSearchParams(location.search).get("lang"),
    localStorage.getItem(CHOSEN_KEY),
    ...navigator.languages,
    navigator.language,
  ];
  return (
    (wanted
      .filter((tag): tag is string => !!tag)
      .map(primary)
      .find(isLocale) as Locale | undefined) ?? "en"
  );
}

export function setLocale(next: Locale, { remember = false } = {}): void {
  locale = next;
  t = LOCALES[next];
  if (remember) {
    localStorage.setItem(CHOSEN_KEY, next);
    // A pick from the menu outranks the link the person came by, on reload too.
    const url = new URL(location.href);
    if (url.searchParams.has("lang")) {
      url.searchParams.delete("lang");
      history.replaceState(history.state, "", url);
    }
  }
  const root = document.documentElement;
  root.lang = next;
  root.dir = RIGHT_TO_LEFT.has(next) ? "rtl" : "ltr";
  for (const el of document.querySelectorAll<HTMLElement>("[data-i18n]")) el.textContent = text(el.dataset.i18n!);
  for (const el of document.querySelectorAll<HTMLInputElement>("[data-i18n-placeholder]"))
    el.placeholder = text(el.dataset.i18nPlaceholder!);
  for (const el of document.querySelectorAll<HTMLElement>("[data-i18n-label]"))
    el.setAttribute("aria-label", text(el.dataset.i18nLabel!));
}

function text(key: string): string {
  const value = (t as Record<string, unknown>)[key as MessageKey];
  if (typeof value !== "string") throw new Error(`no text "${key}" in ${locale}`);
  return value;
}

/** A list the way the page's language writes it: "music, chess and anime". */
export const list = (items: string[]): string => new Intl.ListFormat(locale, { type: "conjunction" }).format(items);
export const number = (n: number): string => new Intl.NumberFormat(locale).format(n);
