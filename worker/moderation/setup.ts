/**
 * The filter the environment asks for (MODERATION_ACTION, MODERATION_WORDS, MODERATION_AI_MODEL):
 * the local lists of filter.ts, and optionally a Workers AI classifier after them. A
 * setting that cannot be used is logged, and the built-in lists still apply.
 */
import { z } from "zod";
import { settings } from "../platform/config";
import { log } from "../platform/log";
import {
  CATEGORIES,
  chain,
  type FilterAction,
  type FilterCategory,
  localFilter,
  MASK,
  type MessageFilter,
  PASS,
  type WordLists,
} from "./filter";

// ---------------------------------------------------------------- Workers AI

type AiBinding = { run(model: string, input: unknown): Promise<unknown> };

/** Llama Guard's hazard codes for sexual content (S12) and child sexual exploitation (S4); any other code counts as a slur. */
const SEXUAL_HAZARDS = new Set(["S4", "S12"]);

/**
 * The categories of an unsafe judgement, or none when safe. Llama Guard answers either
 * `{ safe, categories }` or the text "safe" / "unsafe\nS12"; anything else throws, and the
 * filter passes the message.
 */
function judgement(output: unknown): FilterCategory[] {
  const response = (output as { response?: unknown } | null)?.response;
  let unsafe: boolean;
  let codes: string[];
  if (typeof response === "string") {
    const answer = response.trim().toLowerCase();
    if (!answer.startsWith("safe") && !answer.startsWith("unsafe")) throw new Error("unreadable classifier answer");
    unsafe = answer.startsWith("unsafe");
    codes = response.match(/S\d+/gi) ?? [];
  } else if (
    typeof response === "object" &&
    response !== null &&
    typeof (response as { safe?: unknown }).safe === "boolean"
  ) {
    const judged = response as { safe: boolean; categories?: unknown };
    unsafe = !judged.safe;
    codes = Array.isArray(judged.categories)
      ? judged.categories.flatMap((c) => (typeof c === "string" ? (c.match(/S\d+/gi) ?? []) : []))
      : [];
  } else {
    throw new Error("unreadable classifier output");
  }
  if (!unsafe) return [];
  const sexual = codes.some((c) => SEXUAL_HAZARDS.has(c.toUpperCase()));
  const other = codes.length === 0 || codes.some((c) => !SEXUAL_HAZARDS.has(c.toUpperCase()));
  return CATEGORIES.filter((c) => (c === "sexual" && sexual) || (c === "slur" && other));
}

/** Messages wait for the classifier in order, so one that hangs would hold up the whole chat: past this it passes. */
const AI_TIMEOUT_MS = 1500;

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  const timeout = scheduler.wait(ms).then(() => Promise.reject(new Error(`no answer within ${ms} ms`)));
  return Promise.race([work, timeout]);
}

/** Workers AI text classifier (e.g. "@cf/meta/llama-guard-3-8b"): judges the whole message, so it masks the whole message. */
export function aiFilter(ai: AiBinding, model: string, action: FilterAction): MessageFilter {
  return {
    async check(text) {
      try {
        const categories = judgement(
          await withTimeout(ai.run(model, { messages: [{ role: "user", content: text }] }), AI_TIMEOUT_MS),
        );
        if (!categories.length) return PASS;
        return action === "refuse" ? { action, categories } : { action, text: MASK, categories };
      } catch (err) {
        log(
          "moderation.ai_failed",
          { model, error: err instanceof Error ? err.message.slice(0, 200) : typeof err },
          "warn",
        );
        return PASS;
      }
    },
  };
}

// ---------------------------------------------------------------- from the environment

const OperatorWords = z.record(
  z.string(),
  z.strictObject({ slur: z.array(z.string()).optional(), sexual: z.array(z.string()).optional() }),
);

/** The operator's MODERATION_WORDS; a mistake in it is logged and the built-in lists still apply. */
function operatorWords(raw: string): WordLists {
  if (!raw.trim()) return {};
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    log("moderation.words_invalid", { reason: "MODERATION_WORDS is not JSON" }, "warn");
    return {};
  }
  const parsed = OperatorWords.safeParse(json);
  if (parsed.success) return parsed.data;
  log(
    "moderation.words_invalid",
    { reason: parsed.error.issues[0]?.message, path: parsed.error.issues[0]?.path.join(".") },
    "warn",
  );
  return {};
}

function buildFilter(
  setting: FilterAction | "off",
  words: string,
  model: string,
  ai: AiBinding | undefined,
): MessageFilter {
  if (setting === "off") return { check: () => PASS };
  const action = setting;
  const local = localFilter({ action, words: operatorWords(words) });
  if (!model) return local;
  if (!ai) {
    log("moderation.ai_unbound", { model, reason: "MODERATION_AI_MODEL is set but there is no AI binding" }, "warn");
    return local;
  }
  return chain(local, aiFilter(ai, model, action));
}

/** Built once per configuration: a room asks on every start, and compiling the lists is the expensive part. */
const builtFilters = new Map<string, MessageFilter>();

/** The filter the environment asks for: MODERATION_ACTION ("mask", "refuse", "off"), MODERATION_WORDS, MODERATION_AI_MODEL. */
export function filterFor(env: Env): MessageFilter {
  return built(env, (env.MODERATION_AI_MODEL ?? "").trim(), (env as Env & { AI?: AiBinding }).AI);
}

/**
 * For what a search shows the partner (a name, interests): the same action and word lists, but
 * no classifier, which would put a model call in front of every match.
 */
export function profileFilterFor(env: Env): MessageFilter {
  return built(env, "", undefined);
}

function built(env: Env, model: string, ai: AiBinding | undefined): MessageFilter {
  const action = settings(env).MODERATION_ACTION;
  const words = env.MODERATION_WORDS ?? "";
  const key = JSON.stringify([action, words, model, ai !== undefined]);
  let filter = builtFilters.get(key);
  if (!filter) builtFilters.set(key, (filter = buildFilter(action, words, model, ai)));
  return filter;
}
