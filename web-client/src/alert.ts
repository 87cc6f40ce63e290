/** The alert above the screens, for errors a person has to know about. */
import type { ClientError } from "@strangers/client";
import { locale, t } from "./i18n";
import { $ } from "./page";

const alertBox = $("alert");
const alertText = $("alert-text");

export function showError(error: ClientError): void {
  // The page words the errors it expects in its own language; anything else, the server's text.
  let text = error.message;
  if (error.code === "unreachable") text = t.errorUnreachable;
  if (error.code === "rate_limited")
    text = error.retryAfterSeconds
      ? `${t.errorRateLimited} ${t.tryAgainIn(error.retryAfterSeconds)}`
      : t.errorRateLimited;
  if (error.code === "banned" && error.until) text = t.bannedUntil(new Date(error.until).toLocaleString(locale));
  alertText.textContent = text;
  alertBox.hidden = false;
}

export function clearError(): void {
  alertBox.hidden = true;
}
