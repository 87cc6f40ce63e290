/**
 * The waiting screen while a search lasts: what it covers, a line saying when it widens, and
 * who's around. Its timers live in one object, which `stop` ends when the search does.
 */
import type { Around, Widening } from "@strangers/client";
import { criteria, describeChoices } from "./choices";
import { list, number, t } from "./i18n";
import { $ } from "./page";

const criteriaLine = $("waiting-criteria");
const interestsLine = $("waiting-interests");
const wideningLine = $("widening");
const aroundLine = $("around");
const onlineFigure = $("online");
const pairedWithinFigure = $("paired-within");

const AROUND_REFRESH_MS = 15_000;

export class WaitingScreen {
  private widening: Widening | null = null;
  private wideningTimers: ReturnType<typeof setTimeout>[] = [];
  /** Who's around, refreshed while the search lasts; the server's figures are coarse already. */
  private around: Around | null = null;
  private aroundTimer: ReturnType<typeof setTimeout> | undefined;
  /** Bumped whenever a watch starts or stops, so an answer still on its way for an old one is dropped. */
  private aroundWatch = 0;

  constructor(private readonly readAround: () => Promise<Around | null>) {}

  start(): void {
    this.showSearch();
    this.watchAround();
  }

  stop(): void {
    this.showWidening(null);
    this.stopAround();
  }

  /** Worded again in the page's language, from the facts kept. */
  reword(): void {
    this.showSearch();
    this.showWidening(this.widening);
    this.showAround(this.around);
  }

  /**
   * Says what the search covers now and what it will cover next. The text changes at most
   * twice, when the search widens: a countdown would only make the wait feel longer.
   */
  showWidening(widening: Widening | null): void {
    this.wideningTimers.forEach(clearTimeout);
    this.wideningTimers = [];
    this.widening = widening;
    if (!widening) return void (wideningLine.textContent = "");
    const { emotionAt, languageAt } = widening;
    const update = () => {
      const now = Date.now();
      const feelings = now >= emotionAt;
      if (languageAt === null) wideningLine.textContent = feelings ? t.wideningNow : t.wideningSoon;
      else if (now >= languageAt) wideningLine.textContent = t.wideningNowBoth;
      else wideningLine.textContent = feelings ? t.wideningNowSoonLanguages : t.wideningSoonBoth;
    };
    update();
    for (const at of [emotionAt, languageAt]) {
      if (at !== null && at > Date.now()) this.wideningTimers.push(setTimeout(update, at - Date.now()));
    }
  }

  /** What the search covers, and what it prefers: someone sharing an interest first, anyone else otherwise. */
  private showSearch(): void {
    const chosen = criteria();
    criteriaLine.replaceChildren(...describeChoices(chosen));
    const interests = chosen.interests ?? [];
    interestsLine.textContent = interests.length ? t.lookingForInterests(list(interests)) : "";
    interestsLine.hidden = interests.length === 0;
  }

  private watchAround(): void {
    this.stopAround();
    const watch = this.aroundWatch;
    const refresh = async () => {
      const figures = await this.readAround();
      if (watch !== this.aroundWatch) return;
      this.showAround(figures);
      this.aroundTimer = setTimeout(refresh, AROUND_REFRESH_MS);
    };
    void refresh();
  }

  /** Figures belong to the search they were read for: the next one starts blank. */
  private stopAround(): void {
    this.aroundWatch++;
    clearTimeout(this.aroundTimer);
    this.showAround(null);
  }

  private showAround(figures: Around | null): void {
    this.around = figures;
    aroundLine.hidden = figures === null;
    if (!figures) return;
    onlineFigure.textContent = figures.online === "few" ? t.onlineFew : t.online(number(figures.online));
    const within = figures.pairedWithinSeconds;
    pairedWithinFigure.textContent =
      within === null ? "" : within < 60 ? t.pairedWithin(within) : t.pairedWithinMinutes(Math.round(within / 60));
  }
}
