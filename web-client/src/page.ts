/**
 * The page's screens, the elements more than one part of the script uses (found once, by id),
 * and the small DOM helpers the parts share. An element only one part uses is looked up there.
 */

export const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** An element with its class, and text only ever as `textContent`. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export const screens = { consent: $("consent"), choose: $("choose"), waiting: $("waiting"), chat: $("chat") };

export function show(screen: keyof typeof screens): void {
  for (const [name, element] of Object.entries(screens)) element.hidden = name !== screen;
}

export const chooseForm = $<HTMLFormElement>("choose-form");
export const composer = $<HTMLFormElement>("composer");
export const messageInput = $<HTMLInputElement>("text");
export const stopButton = $("stop");
