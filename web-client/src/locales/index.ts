/** The page's text by language: one catalog per language the picker offers, English the reference. No DOM here, so tests and apps can load it. */
import type { LANGUAGES } from "@strangers/protocol";
import { ar } from "./ar";
import { de } from "./de";
import { en, type Messages } from "./en";
import { es } from "./es";
import { fr } from "./fr";
import { hi } from "./hi";
import { it } from "./it";
import { ja } from "./ja";
import { pt } from "./pt";

export type { MessageKey, Messages } from "./en";
export const LOCALES = { en, es, pt, fr, de, it, hi, ar, ja } satisfies Record<(typeof LANGUAGES)[number], Messages>;
export type Locale = keyof typeof LOCALES;
