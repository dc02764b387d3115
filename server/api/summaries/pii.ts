/**
 * PII detection and free-text sanitising for everything that goes near the LLM.
 *
 * - `scanText` finds emails (spelled out too: "jane [at] example [dot] com"), phone numbers,
 *   URLs, IP addresses, card-like and IBAN-like numbers, plus the private strings of the account
 *   (company name, contact email, CSM name, customer id) however they are cased or separated
 *   ("Delta-Works-Ltd"). The final prompt is scanned and NOT sent on any hit.
 * Every check reads the text through `normalizeText` first (normalize.ts): full-width letters,
 * invisible characters and lookalike scripts do not hide anything.
 * - `sanitizeFreeText` turns customer-written text (ticket subjects, a CSM's focus request) into
 *   data that is safe to quote: PII replaced by placeholders, instruction-like text removed,
 *   characters that could close the fence stripped, length capped.
 */

import {deobfuscateEmails, fold, normalizeText, squash} from "./normalize.ts";

export interface PiiHit {
  kind: "email" | "phone" | "url" | "ip" | "card_number" | "iban" | "private_value";
  /** which private value (its field name), never the value itself */
  what?: string;
}

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
const PHONE = [
  /\+\d{1,3}[\s.-]?\(?\d{1,4}\)?(?:[\s.-]?\d{2,4}){2,4}/g, // international: +1 415 555 0100
  /\(\d{3}\)\s?\d{3}[\s.-]\d{4}/g, // (415) 555-0100
  /(?<![\w.-])\d{3}[\s.-]\d{3}[\s.-]\d{4}(?![\w-])/g, // 415-555-0100
  // 555-0142: a bare 7-digit local number looks like a range ("201-1000"), so it counts only
  // after a word that announces a phone number
  /\b(?:phone|tel|telephone|call|mobile|cell|fax|sms|text|whatsapp|reach|ring|dial)\b\W{0,20}\d{3}[-.\s]\d{4}(?![\w.-])/gi,
];
const URL_RE = /\b(?:https?:\/\/|www\.)[^\s"'<>]+/gi;
const IP = /(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])/g;
const CARD = /(?<![\w])(?:\d[ -]?){13,19}(?![\w])/g;
const IBAN = /\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){3,7}\b/g;

/** Private values shorter than this (letters and digits) are matched as written, not squashed. */
const SQUASH_MIN = 6;

export function scanText(input: string, privateValues: Record<string, string | null | undefined> = {}): PiiHit[] {
  const hits: PiiHit[] = [];
  const text = deobfuscateEmails(normalizeText(input).text);
  const test = (re: RegExp) => {
    re.lastIndex = 0;
    return re.test(text);
  };
  if (test(EMAIL)) hits.push({kind: "email"});
  if (PHONE.some(test)) hits.push({kind: "phone"});
  if (test(URL_RE)) hits.push({kind: "url"});
  if (test(IP)) hits.push({kind: "ip"});
  if (test(CARD)) hits.push({kind: "card_number"});
  if (test(IBAN)) hits.push({kind: "iban"});
  const folded = fold(text);
  const squashed = squash(text);
  for (const [what, v] of Object.entries(privateValues)) {
    if (!v || v.trim().length < 3) continue;
    const value = normalizeText(v.trim()).text;
    if (folded.includes(fold(value)) || (squash(value).length >= SQUASH_MIN && squashed.includes(squash(value))))
      hits.push({kind: "private_value", what});
  }
  return hits;
}

/** Phrases that try to steer the model rather than describe a support problem (matched on folded text). */
const INJECTION = [
  /\b(ignore|disregard|forget|override)\b[^.]{0,40}\b(instructions?|rules?|prompts?|guidelines|above|previous|prior)\b/i,
  /\b(system|developer)\s*(prompt|message|mode)\b/i,
  /^\s*(system|assistant|developer)\s*:/im,
  /\byou are now\b/i,
  /\b(admin|god|jailbreak|dan)\s+mode\b/i,
  /\b(reveal|print|show|repeat|export)\b[^.]{0,40}\b(prompt|instructions|emails?|secrets?|keys?|passwords?)\b/i,
  /\bact as\b|\bpretend (to be|you)\b|\brole-?play\b/i,
  /\b(set|mark|change)\b[^.]{0,30}\b(risk|score|tier|account)\b[^.]{0,30}\b(to|as)\b\s*(0|zero|low|healthy|none)\b/i,
  /<\/?\s*(system|untrusted\w*|instructions?)\b/i,
  // the same in the languages a CS team writes in (accents folded away)
  /\b(ignore[rsz]?|oublie[rz]?)\b[^.]{0,40}\b(instructions?|consignes?|regles?)\b/i, // fr
  /\b(ignora[r]?|olvida[r]?)\b[^.]{0,40}\b(instrucciones|reglas|indicaciones)\b/i, // es
  /\b(ignorier\w*|vergiss\w*|missachte\w*)\b[^.]{0,40}\b(anweisung\w*|regeln|vorgaben)\b/i, // de
  /\b(ignor[ae]\w*|esque[cç]a)\b[^.]{0,40}\b(instrucoes|instrucao|regras)\b/i, // pt
  /\b(ignora\w*|dimentica\w*)\b[^.]{0,40}\b(istruzioni|regole)\b/i, // it
  /\b(negeer\w*|vergeet)\b[^.]{0,40}\b(instructies|regels|opdrachten)\b/i, // nl
];

/** A run of base64 (or hex) long enough to carry an instruction past the word checks. */
const ENCODED = /(?:[A-Za-z0-9+/]{24,}={0,2}|\b[0-9a-f]{32,}\b)/;

export function looksLikeInjection(input: string): boolean {
  const {text, hadBidi} = normalizeText(input);
  const folded = fold(text);
  if (INJECTION.some((re) => re.test(folded))) return true;
  // text written backwards behind a right-to-left override reads forwards on screen
  if (hadBidi && INJECTION.some((re) => re.test([...folded].reverse().join("")))) return true;
  // an encoded blob is neither a support problem nor a summary request, whatever it decodes to
  const encoded = ENCODED.exec(text)?.[0];
  if (encoded && /[0-9+/]/.test(encoded) && /[A-Za-z]/.test(encoded)) return true;
  return false;
}

export interface Sanitized {
  text: string;
  /** what was changed, for metrics and the summary's flags */
  redacted: ("email" | "phone" | "url" | "injection" | "truncated")[];
}

export function sanitizeFreeText(input: string, maxLength = 120): Sanitized {
  const redacted: Sanitized["redacted"] = [];
  let t = normalizeText(input).text;
  // control characters (invisible and bidi ones are gone already)
  t = t.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, " ");
  if (looksLikeInjection(t)) return {text: "[removed: instruction-like text]", redacted: ["injection"]};
  const swap = (re: RegExp, label: string, kind: "email" | "phone" | "url") => {
    re.lastIndex = 0;
    if (re.test(t)) {
      re.lastIndex = 0;
      t = t.replace(re, label);
      if (!redacted.includes(kind)) redacted.push(kind);
    }
  };
  swap(URL_RE, "[link]", "url");
  swap(EMAIL, "[email]", "email");
  for (const re of PHONE) swap(re, "[phone]", "phone");
  swap(CARD, "[number]", "phone");
  // characters that could open or close a fence, a tag or JSON
  t = t.replace(/[<>`{}\[\]\\"]/g, (ch) => (ch === "[" || ch === "]" ? ch : " "));
  t = t.replace(/\s+/g, " ").trim();
  if (t.length > maxLength) {
    t = t.slice(0, maxLength - 1).trimEnd() + "…";
    redacted.push("truncated");
  }
  return {text: t, redacted};
}
