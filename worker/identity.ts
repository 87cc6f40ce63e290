/** A stable pseudonym for an id, so nothing stored or logged holds a raw userId or deviceId. */
export async function fingerprint(id: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(id));
  return [...new Uint8Array(digest).slice(0, 12)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
