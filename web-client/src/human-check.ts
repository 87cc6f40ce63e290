/**
 * The human check (Cloudflare Turnstile), when the operator turned it on. Its script is only
 * loaded when the server asks, so the page loads nothing from elsewhere otherwise.
 */
import { $ } from "./page";

type Turnstile = {
  render(container: HTMLElement, options: { sitekey: string; callback(token: string): void }): string;
  remove(id: string): void;
};

const humanCheckBox = $("human-check");

/** Shows the widget with the server's site key, and hands on the token it gives once the person passed. */
export async function humanCheck(siteKey: string, passed: (token: string) => void): Promise<void> {
  humanCheckBox.hidden = false;
  const turnstile = await loadTurnstile();
  humanCheckBox.replaceChildren();
  const widget = turnstile.render(humanCheckBox, {
    sitekey: siteKey,
    callback: (token) => {
      turnstile.remove(widget);
      humanCheckBox.hidden = true;
      passed(token);
    },
  });
}

function loadTurnstile(): Promise<Turnstile> {
  const g = globalThis as { turnstile?: Turnstile };
  if (g.turnstile) return Promise.resolve(g.turnstile);
  return new Promise((resolve, reject) => {
    const script = Object.assign(document.createElement("script"), {
      src: "https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit",
      async: true,
    });
    script.onload = () => resolve(g.turnstile!);
    script.onerror = () => reject(new Error("the human check could not load"));
    document.head.append(script);
  });
}
