/**
 * A stable pseudonym for an id: an HMAC under the service's secret (`FINGERPRINT_SECRET`), so
 * nothing stored or logged holds a raw userId or deviceId, and someone who knows a raw id but
 * not the secret cannot compute its fingerprint to find or link its records.
 */
const keys = new Map<string, Promise<CryptoKey>>();
const encoder = new TextEncoder();
/** Recent fingerprints, in this isolate's memory only: a polling waiter sends the same ids every few seconds. */
const recent = new Map<string, Promise<string>>();
const RECENT_MAX = 10_000;

export function fingerprint(env: Pick<Env, "FINGERPRINT_SECRET">, id: string): Promise<string> {
  const secret = env.FINGERPRINT_SECRET;
  if (!secret)
    return Promise.reject(
      new Error("FINGERPRINT_SECRET is not set: run `npx wrangler secret put FINGERPRINT_SECRET --env <name>`"),
    );
  const cacheKey = `${secret.length}:${secret}\n${id}`;
  let known = recent.get(cacheKey);
  if (!known) {
    known = hmac(secret, id);
    recent.set(cacheKey, known);
    if (recent.size > RECENT_MAX) recent.delete(recent.keys().next().value!);
    known.catch(() => recent.delete(cacheKey));
  }
  return known;
}

async function hmac(secret: string, id: string): Promise<string> {
  let key = keys.get(secret);
  if (!key)
    keys.set(
      secret,
      (key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
        "sign",
      ])),
    );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await key, encoder.encode(id)));
  return [...mac.slice(0, 16)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
