/**
 * The optional bot gate: Cloudflare Turnstile on a device's first match. Off unless the
 * operator sets the `TURNSTILE_SECRET` secret (and `TURNSTILE_SITE_KEY`, which the page shows).
 * A device that passed once is remembered by its Device record; scripts that mint a fresh
 * deviceId per request meet the check every time.
 */
import { ApiError } from "../platform/errors";

export const SITEVERIFY_URL = "https://challenges.cloudflare.com/turnstile/v0/siteverify";

export const botCheckEnabled = (env: Env): boolean => Boolean(env.TURNSTILE_SECRET);

/** Throws the refusal a client shows (with the site key its widget needs) unless `token` passes siteverify. */
export async function requireHuman(env: Env, token: string | undefined, remoteip: string | null): Promise<void> {
  const siteKey = env.TURNSTILE_SITE_KEY ?? "";
  if (!token) throw new ApiError(403, "bot_check_required", "Please confirm you are human first.", { siteKey });
  const form = new FormData();
  form.append("secret", env.TURNSTILE_SECRET!);
  form.append("response", token);
  if (remoteip) form.append("remoteip", remoteip);
  let passed = false;
  try {
    const res = await fetch(SITEVERIFY_URL, { method: "POST", body: form });
    passed = res.ok && ((await res.json()) as { success?: boolean }).success === true;
  } catch {
    // An unreachable siteverify is a failed check: the gate fails closed.
  }
  if (!passed)
    throw new ApiError(403, "bot_check_failed", "The human check did not pass; please try again.", { siteKey });
}
