/**
 * Small grammar helpers for generated English (summaries, answers, briefs): articles, plurals
 * and lists, so no template writes "a Enterprise account" or "1 open tickets". Pure functions,
 * importable from pages, loaders and the server alike.
 */
import {formatInt} from "./format.js";

/** "a"/"an" for the word that follows (by its sound's usual spelling: "an Enterprise", "a Growth", "an 80%"). */
export function article(next: string): "a" | "an" {
  const w = next.trim();
  // numbers read aloud: "an 8", "an 80%", "an 11", "an 18,000" start with a vowel sound
  const digits = /^\$?([\d,]+)/.exec(w)?.[1]?.replace(/,/g, "");
  if (digits) {
    if (w.startsWith("$")) return "a"; // "a $12,000 renewal"
    return digits.startsWith("8") || (digits.length % 3 === 2 && /^1[18]/.test(digits)) ? "an" : "a";
  }
  if (/^(uni|use|usu|uti|eu|one|once)/i.test(w)) return "a";
  if (/^(hour|honest|honou?r|heir)/i.test(w)) return "an";
  if (/^[A-Z]{2,}\b/.test(w)) return /^[AEFHILMNORSX]/.test(w) ? "an" : "a"; // acronyms: "an SLA", "a CSM"
  return /^[aeiou]/i.test(w) ? "an" : "a";
}

/** "an Enterprise account" */
export const withArticle = (phrase: string): string => `${article(phrase)} ${phrase}`;

/** The noun for `n`: plural(1, "ticket") → "ticket"; plural(2, "opportunity", "opportunities") → "opportunities". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return Math.abs(n) === 1 ? one : many;
}

/** "1 open ticket", "2,431 events", "no open tickets" (with `none`) */
export function count(n: number, one: string, many = `${one}s`, none?: string): string {
  if (n === 0 && none !== undefined) return none;
  return `${formatInt(n)} ${plural(n, one, many)}`;
}

/** "a", "a and b", "a, b and c" */
export function listOf(items: readonly string[], conjunction = "and"): string {
  const xs = items.filter((x) => x.length > 0);
  if (xs.length <= 1) return xs.join("");
  return `${xs.slice(0, -1).join(", ")} ${conjunction} ${xs.at(-1)}`;
}

/** First letter upper-cased (sentence start). */
export const capitalise = (s: string): string => (s ? s[0]!.toUpperCase() + s.slice(1) : s);
