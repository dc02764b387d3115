/**
 * One reading of text for every check near the LLM, so a check cannot be dodged by writing the
 * same thing differently. A hostile endpoint got past the guardrail with ３７% and ٣٧%, "thirty-seven
 * percent", "four point eight million", "15th", a zero-width space before the `@` of a real
 * address, "jane.roe [at] example [dot] com", "Delta-Works-Ltd" for a company name, Cyrillic
 * letters that look Latin, and the system prompt in lower case. `normalizeText` undoes the
 * encodings (Unicode NFKC, invisible characters, other scripts' digits, lookalike letters),
 * `numbersAsDigits` the ways of writing a number in words, `deobfuscateEmails` the ways of
 * spelling an address, and `squash` the separators inside a name.
 */

/** Zero-width, bidi-control, soft-hyphen and other invisible format characters (Unicode Cf). */
const INVISIBLE = /\p{Cf}/gu;
/** Bidi controls alone (their presence suggests text meant to be read reversed). */
const BIDI = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/u;
const DIGIT = /\p{Nd}/gu;

/** Latin lookalikes NFKC leaves alone: Cyrillic and Greek letters that render as Latin ones. */
const CONFUSABLES: Record<string, string> = {
  а: "a",
  в: "b",
  е: "e",
  ё: "e",
  к: "k",
  м: "m",
  н: "h",
  о: "o",
  р: "p",
  с: "c",
  т: "t",
  у: "y",
  х: "x",
  і: "i",
  ї: "i",
  ј: "j",
  ѕ: "s",
  ԁ: "d",
  ԛ: "q",
  ԝ: "w",
  һ: "h",
  ӏ: "l",
  А: "A",
  В: "B",
  Е: "E",
  К: "K",
  М: "M",
  Н: "H",
  О: "O",
  Р: "P",
  С: "C",
  Т: "T",
  У: "Y",
  Х: "X",
  І: "I",
  Ј: "J",
  Ѕ: "S",
  α: "a",
  ο: "o",
  ρ: "p",
  ν: "v",
  τ: "t",
  υ: "u",
  ι: "i",
  κ: "k",
  χ: "x",
  Α: "A",
  Β: "B",
  Ε: "E",
  Ζ: "Z",
  Η: "H",
  Ι: "I",
  Κ: "K",
  Μ: "M",
  Ν: "N",
  Ο: "O",
  Ρ: "P",
  Τ: "T",
  Υ: "Y",
  Χ: "X",
};
const CONFUSABLE_RE = new RegExp(`[${Object.keys(CONFUSABLES).join("")}]`, "gu");

/** The value of a decimal digit of any script (Unicode puts each script's 0–9 in a row). */
function digitValue(ch: string): number {
  let cp = ch.codePointAt(0)!;
  let run = 0;
  while (run < 9 && /\p{Nd}/u.test(String.fromCodePoint(cp - 1))) (cp--, run++);
  // several scripts' rows can touch (mathematical digits): count within the row of ten
  return (((ch.codePointAt(0)! - cp) % 10) + 10) % 10;
}

export interface Normalized {
  text: string;
  /** the input carried bidi controls (right-to-left overrides and the like) */
  hadBidi: boolean;
}

/** NFKC, invisible characters removed, every script's digits as ASCII, lookalike letters as Latin. */
export function normalizeText(input: string): Normalized {
  const hadBidi = BIDI.test(input);
  const text = input
    .normalize("NFKC")
    .replace(INVISIBLE, "")
    .replace(DIGIT, (d) => (d >= "0" && d <= "9" ? d : String(digitValue(d))))
    .replace(CONFUSABLE_RE, (c) => CONFUSABLES[c]!)
    .normalize("NFKC");
  return {text, hadBidi};
}

/** Lower-cased with accents dropped: the form case-insensitive checks compare. */
export function fold(text: string): string {
  return text.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
}

/** Letters and digits only, folded: "Delta-Works Ltd." and "deltaworksltd" are the same name. */
export function squash(text: string): string {
  return fold(text).replace(/[^\p{L}\p{N}]+/gu, "");
}

const UNITS: Record<string, number> = {
  zero: 0,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
};
const TENS: Record<string, number> = {
  twenty: 20,
  thirty: 30,
  forty: 40,
  fifty: 50,
  sixty: 60,
  seventy: 70,
  eighty: 80,
  ninety: 90,
};
/** Ordinals written as words ("first", "second" and "third" are left alone: "first, review…", "a second call", "third party"). */
const ORDINALS: Record<string, string> = {
  fourth: "four",
  fifth: "five",
  sixth: "six",
  seventh: "seven",
  eighth: "eight",
  ninth: "nine",
  tenth: "ten",
  eleventh: "eleven",
  twelfth: "twelve",
  thirteenth: "thirteen",
  fourteenth: "fourteen",
  fifteenth: "fifteen",
  sixteenth: "sixteen",
  seventeenth: "seventeen",
  eighteenth: "eighteen",
  nineteenth: "nineteen",
  twentieth: "twenty",
  thirtieth: "thirty",
  fortieth: "forty",
  fiftieth: "fifty",
  sixtieth: "sixty",
  seventieth: "seventy",
  eightieth: "eighty",
  ninetieth: "ninety",
  hundredth: "hundred",
  thousandth: "thousand",
};
const SCALES: Record<string, number> = {dozen: 12, hundred: 100, thousand: 1e3, million: 1e6, billion: 1e9};
const NUMBER_WORD = new RegExp(
  `\\b(?:${[...Object.keys(UNITS), ...Object.keys(TENS), ...Object.keys(SCALES), ...Object.keys(ORDINALS)].join("|")})\\b`,
  "i",
);
/** A run of number words: "thirty-seven", "four point eight million", "two thousand and five". */
const RUN = new RegExp(
  `\\b(?:${[...Object.keys(UNITS), ...Object.keys(TENS), ...Object.keys(ORDINALS), "a", "point", "and", ...Object.keys(SCALES)].join("|")})(?:[\\s-]+(?:${[...Object.keys(UNITS), ...Object.keys(TENS), ...Object.keys(ORDINALS), "point", "and", ...Object.keys(SCALES)].join("|")}))*\\b`,
  "gi",
);

/** The value of a run of number words, or null when it is not a number ("a", "and", "one" alone). */
function wordsValue(run: string): number | null {
  const words = run
    .toLowerCase()
    .split(/[\s-]+/)
    .map((w) => ORDINALS[w] ?? w);
  while (words[0] === "and") words.shift();
  while (words.at(-1) === "and") words.pop();
  if (!words.length || !words.some((w) => NUMBER_WORD.test(w))) return null;
  // "one" or "a" alone is an article more often than a count ("one of the drivers")
  if (words.length === 1 && (words[0] === "one" || words[0] === "a")) return null;
  let total = 0;
  let current = 0;
  let decimals = "";
  let inDecimals = false;
  let seen = false;
  for (const w of words) {
    if (w === "and") continue;
    if (w === "a") {
      current = current || 1;
      continue;
    }
    if (w === "point") {
      inDecimals = true;
      continue;
    }
    if (inDecimals && w in UNITS && UNITS[w]! < 10) {
      decimals += String(UNITS[w]);
      continue;
    }
    if (w in UNITS) ((current += UNITS[w]!), (seen = true));
    else if (w in TENS) ((current += TENS[w]!), (seen = true));
    else if (w === "hundred" || w === "dozen") ((current = (current || 1) * SCALES[w]!), (seen = true));
    else if (w in SCALES) {
      const base = (current || 1) + (decimals ? Number(`0.${decimals}`) : 0);
      total += base * SCALES[w]!;
      current = 0;
      decimals = "";
      inDecimals = false;
      seen = true;
    }
  }
  if (!seen) return null;
  return total + current + (decimals ? Number(`0.${decimals}`) : 0);
}

/**
 * Numbers as digits: number words ("thirty-seven" → 37, "four point eight million" → 4.8M),
 * scale words after digits ("4.8 million" → 4.8M, "12 thousand" → 12k), "per cent"/"percent" →
 * %, and ordinals ("15th" → 15), so every way of writing a number meets the same check.
 */
export function numbersAsDigits(text: string): string {
  return (
    text
      .replace(RUN, (run) => {
        const v = wordsValue(run);
        if (v === null) return run;
        const big = v >= 1e6 && Number.isInteger(v / 1e5);
        return big ? `${v / 1e6}M` : String(v);
      })
      // a decimal comma before a scale or a percent sign: "4,8 Mio", "12,5 %"
      .replace(/(\d),(\d{1,2})(?=\s*(?:million|mn|mio|mln|m|k|bn|%|per\s*cent|percent)\b|\s*%)/gi, "$1.$2")
      .replace(/(\d)\s*(million|mn|mio|mln)\b/gi, "$1M")
      .replace(/(\d)\s*(billion|bn|bln)\b/gi, "$1bn")
      .replace(/(\d)\s*thousand\b/gi, "$1k")
      .replace(/(\d)\s*(?:per\s*cent|percent|pct)\b/gi, "$1%")
      .replace(/(\d)(?:st|nd|rd|th)\b/gi, "$1")
  );
}

/** E-mail addresses spelled out: "jane.roe [at] example [dot] com", "jane (at) example.com". */
export function deobfuscateEmails(text: string): string {
  return text
    .replace(/\s*[[({<]\s*(?:at|@)\s*[\])}>]\s*/gi, "@")
    .replace(/\s*[[({<]\s*(?:dot|\.)\s*[\])}>]\s*/gi, ".")
    .replace(
      /\b([\w.+-]+)\s+at\s+([\w-]+(?:\s+dot\s+[\w-]+)+)\b/gi,
      (_, user: string, host: string) => `${user}@${host.replace(/\s+dot\s+/gi, ".")}`,
    );
}
