/**
 * PII detection and free-text sanitising for everything that goes near the LLM.
 *
 * - `scanText` finds emails, phone numbers, URLs, IP addresses, card-like and IBAN-like numbers,
 *   plus the exact private strings of the account (company name, contact email, CSM name,
 *   customer id). The final prompt is scanned and NOT sent on any hit.
 * - `sanitizeFreeText` turns customer-written text (ticket subjects, a CSM's focus request) into
 *   data that is safe to quote: PII replaced by placeholders, instruction-like text removed,
 *   characters that could close the fence stripped, length capped.
 */

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

export function scanText(text: string, privateValues: Record<string, string | null | undefined> = {}): PiiHit[] {
  const hits: PiiHit[] = [];
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
  const lower = text.toLowerCase();
  for (const [what, v] of Object.entries(privateValues)) {
    if (!v || v.trim().length < 3) continue;
    if (lower.includes(v.trim().toLowerCase())) hits.push({kind: "private_value", what});
  }
  return hits;
}

/** Phrases that try to steer the model rather than describe a support problem. */
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
];

export function looksLikeInjection(text: string): boolean {
  return INJECTION.some((re) => re.test(text));
}

export interface Sanitized {
  text: string;
  /** what was changed, for metrics and the summary's flags */
  redacted: ("email" | "phone" | "url" | "injection" | "truncated")[];
}

export function sanitizeFreeText(input: string, maxLength = 120): Sanitized {
  const redacted: Sanitized["redacted"] = [];
  let t = input.normalize("NFKC");
  // control and zero-width / bidi characters
  t = t.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/g, " ");
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
