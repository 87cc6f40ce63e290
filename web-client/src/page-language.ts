/**
 * The page language picker. Static text follows through `data-i18n`; what events set is worded
 * again from the facts kept, by `reword`. (Lines already in the log stay as they were said.)
 */
import { LOCALES, type Locale, setLocale } from "./i18n";
import { $ } from "./page";

const picker = $<HTMLSelectElement>("page-language");

export class PageLanguage {
  constructor(private readonly reword: () => void) {
    picker.append(
      ...Object.entries(LOCALES).map(([code, messages]) =>
        Object.assign(document.createElement("option"), {
          value: code,
          textContent: messages.languageName,
          lang: code,
        }),
      ),
    );
    picker.addEventListener("change", () => this.apply(picker.value as Locale, true));
  }

  /** `remember`: a pick from the menu, kept on the device; the language the page starts in is not. */
  apply(next: Locale, remember: boolean): void {
    setLocale(next, { remember });
    picker.value = next;
    this.reword();
  }
}
