/**
 * What the person chose on the first screen (a feeling, a language, a name, interests): read
 * from the form, kept on the device for the next visit, and worded for the waiting screen.
 */
import { type Criteria, spellInterest } from "@strangers/client";
import { locale, t } from "./i18n";
import { chooseForm, el } from "./page";

const interestsInput = chooseForm.elements.namedItem("interests") as HTMLInputElement;
const languageSelect = chooseForm.elements.namedItem("language") as HTMLSelectElement;
const nameInput = chooseForm.elements.namedItem("name") as HTMLInputElement;
const anyLanguageInput = chooseForm.elements.namedItem("anyLanguage") as HTMLInputElement;

const SAVED_KEY = "strangers.criteria";

export function criteria(): Criteria {
  return {
    emotion: chooseForm.querySelector<HTMLInputElement>("input[name=emotion]:checked")?.value ?? "any",
    language: languageSelect.value,
    anyLanguage: anyLanguageInput.checked,
    userName: nameInput.value.trim() || undefined,
    interests: interestsOf(interestsInput.value),
  };
}

/**
 * "Chess, #Music ,, anime" → ["chess", "music", "anime"]: split as people type lists, spelled as
 * the server spells them, other signs read as spaces; a fourth or an overlong one the server
 * refuses, with a message.
 */
function interestsOf(raw: string): string[] {
  // NFKC first: a full-width comma (Chinese and Japanese keyboards) becomes a comma.
  const tags = raw
    .normalize("NFKC")
    .split(/[,،、;]/)
    .map((tag) =>
      spellInterest(tag)
        .replace(/[^\p{L}\p{M}\p{N} -]+/gu, " ")
        .replace(/\s+/g, " ")
        .trim(),
    )
    .filter(Boolean);
  return [...new Set(tags)];
}

export function describeChoices(chosen: Criteria): (Node | string)[] {
  const language = languageSelect.selectedOptions[0]?.textContent ?? chosen.language;
  const emotion = chosen.emotion === "any" ? t.feelingAnything : el("span", "emoji", chosen.emotion ?? "");
  return [`${t.feeling} `, emotion, ` · ${language}`];
}

export function saveChoices(chosen: Criteria): void {
  localStorage.setItem(SAVED_KEY, JSON.stringify(chosen));
}

/** The choices of the last search; on a first visit, the page's language as the chat's. */
export function restoreChoices(): void {
  restoreSaved();
  // A first visit chats in the page's language, when the picker offers it.
  if (!localStorage.getItem(SAVED_KEY) && [...languageSelect.options].some((o) => o.value === locale))
    languageSelect.value = locale;
}

function restoreSaved(): void {
  try {
    const saved = JSON.parse(localStorage.getItem(SAVED_KEY) ?? "null") as Criteria | null;
    if (!saved) return;
    const emotion = chooseForm.querySelector<HTMLInputElement>(
      `input[name=emotion][value="${CSS.escape(saved.emotion ?? "")}"]`,
    );
    if (emotion) emotion.checked = true;
    if (saved.language) languageSelect.value = saved.language;
    anyLanguageInput.checked = saved.anyLanguage === true;
    nameInput.value = saved.userName ?? "";
    interestsInput.value = (saved.interests ?? []).join(", ");
  } catch {
    localStorage.removeItem(SAVED_KEY);
  }
}
