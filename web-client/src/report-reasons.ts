/** The reasons the report dialog offers, one radio button each. */
import { REPORT_REASONS, type ReportReason } from "@strangers/client";
import type { Messages } from "./locales/en";
import { $, el } from "./page";

const REASON_LABELS: Record<ReportReason, keyof Messages> = {
  spam: "reasonSpam",
  harassment: "reasonHarassment",
  sexual: "reasonSexual",
  hate: "reasonHate",
  underage: "reasonUnderage",
  other: "reasonOther",
};

/** Labelled through `data-i18n`, so they are worded when the page language is applied: call this before. */
export function listReportReasons(): void {
  $("report-reasons").append(
    ...REPORT_REASONS.map((reason) => {
      const label = el("label", "reason");
      const radio = Object.assign(document.createElement("input"), {
        type: "radio",
        name: "reason",
        value: reason,
        required: true,
      });
      label.append(radio, el("span", "", ""));
      label.lastElementChild!.setAttribute("data-i18n", REASON_LABELS[reason]);
      return label;
    }),
  );
}
