/**
 * The consent screen on the first visit: the minimum age, the rules and the links to the
 * operator's guidelines, terms and privacy pages, from the operator's policy.
 */
import { type Consent, DEFAULT_POLICY, type Policy } from "@strangers/client";
import { t } from "./i18n";
import { $, el, screens, show } from "./page";

const ageLabel = $("consent-age");
const rulesList = $("consent-rules");
const guidelinesLink = $<HTMLAnchorElement>("link-guidelines");
const termsLink = $<HTMLAnchorElement>("link-terms");
const privacyLink = $<HTMLAnchorElement>("link-privacy");

export class ConsentScreen {
  /** The default until the operator's policy comes. */
  policy: Policy = DEFAULT_POLICY;

  constructor(private readonly consent: Consent) {}

  needed(): Promise<boolean> {
    return this.consent.needed(this.policy);
  }

  accept(): Promise<void> {
    return this.consent.accept(this.policy);
  }

  show(): void {
    ageLabel.textContent = t.consentAge(this.policy.minimumAge);
    rulesList.replaceChildren(...t.consentRules.map((rule) => el("li", "", rule)));
    guidelinesLink.href = this.policy.guidelines;
    termsLink.href = this.policy.terms;
    privacyLink.href = this.policy.privacy;
    show("consent");
  }

  /** If the screen is open, shows it again: in another page language, or with the policy that came. */
  refresh(): void {
    if (!screens.consent.hidden) this.show();
  }
}
