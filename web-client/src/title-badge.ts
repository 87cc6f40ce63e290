/**
 * A new message while the tab is in the background shows in its title ("(2) 2 new messages —
 * Strangers"), so a person who switched away sees the chat go on; looking at the tab clears it.
 */
export class TitleBadge {
  private readonly original: string;
  private count = 0;

  constructor(
    private readonly doc: Document,
    private readonly label: (count: number) => string,
  ) {
    this.original = doc.title;
    doc.addEventListener("visibilitychange", () => {
      if (doc.visibilityState === "visible") this.clear();
    });
  }

  /** A message arrived: counted only while nobody is looking. */
  unseen(): void {
    if (this.doc.visibilityState === "visible") return;
    this.count += 1;
    this.doc.title = `(${this.count}) ${this.label(this.count)} — ${this.original}`;
  }

  clear(): void {
    this.count = 0;
    this.doc.title = this.original;
  }
}
