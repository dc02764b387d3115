/**
 * What a CSV file is, decided once for the whole file before DuckDB reads a line of it: its
 * encoding, its header and its dialect.
 *
 * Why not DuckDB's sniffer: it samples the file and guesses the quote character from that
 * sample, so one stray quote in a file without other quoted values made the quote "none" and the
 * build stored `"Keystone Partners` as a company name, while the same stray quote in a file that
 * also had `"Acme, Inc."` blamed valid lines instead. Here the dialect is RFC 4180 (quote `"`,
 * escaped by doubling) with the delimiter read from the header line, and the reader is strict, so
 * a malformed line is reported at its own line number.
 */
import {closeSync, openSync, readSync, statSync} from "node:fs";

export interface CsvFile {
  delimiter: string;
  /** header names in file order (byte-order mark removed, whitespace trimmed) */
  columns: string[];
}

/** A file-level problem: the file cannot be read as a CSV at all. */
export class CsvFileError extends Error {}

/** Delimiters a spreadsheet export uses, in order of preference on a tie. */
const DELIMITERS = [",", ";", "\t", "|"];
const HEAD_BYTES = 64 * 1024;

function readHead(path: string): Buffer {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(Math.min(HEAD_BYTES, statSync(path).size));
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** Names the encoding of a head that is not UTF-8, or null when it is UTF-8 (or plain ASCII). */
export function foreignEncoding(head: Buffer): string | null {
  if (head[0] === 0xff && head[1] === 0xfe) return "looks like UTF-16 little-endian (byte-order mark FF FE)";
  if (head[0] === 0xfe && head[1] === 0xff) return "looks like UTF-16 big-endian (byte-order mark FE FF)";
  // UTF-16 without a byte-order mark: ASCII text with a NUL byte beside every character
  const sample = head.subarray(0, 512);
  const nulAt = (parity: number) => sample.filter((b, i) => i % 2 === parity && b === 0).length;
  if (sample.length >= 8) {
    const half = sample.length / 2;
    if (nulAt(1) > half * 0.6) return "looks like UTF-16 little-endian (a NUL byte after every character)";
    if (nulAt(0) > half * 0.6) return "looks like UTF-16 big-endian (a NUL byte before every character)";
  }
  if (sample.includes(0)) return "contains NUL bytes (a binary file?)";
  try {
    // stream: true leaves a character cut at the end of the head undecoded instead of failing on it
    new TextDecoder("utf-8", {fatal: true}).decode(head, {stream: true});
  } catch {
    const at = firstInvalidUtf8(head);
    return `byte 0x${head[at]!.toString(16).toUpperCase()} at offset ${at} is not UTF-8 (a Windows-1252 or Latin-1 export? save it as UTF-8)`;
  }
  return null;
}

function firstInvalidUtf8(buf: Buffer): number {
  for (let i = 0; i < buf.length;) {
    const b = buf[i]!;
    const len = b < 0x80 ? 1 : b >> 5 === 6 ? 2 : b >> 4 === 14 ? 3 : b >> 3 === 30 ? 4 : 0;
    if (len === 0) return i;
    for (let k = 1; k < len; k++) if (i + k < buf.length && buf[i + k]! >> 6 !== 2) return i;
    i += len;
  }
  return 0;
}

/** Splits one CSV line on `delimiter`, honouring RFC 4180 quotes. */
export function splitCsvLine(line: string, delimiter: string): string[] {
  const out: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') ((cell += '"'), i++);
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === delimiter) (out.push(cell), (cell = ""));
    else cell += ch;
  }
  out.push(cell);
  return out;
}

/**
 * Reads a CSV file's head and decides encoding, header and delimiter. Throws CsvFileError with
 * the root cause ("is empty", "is not UTF-8 …", "has duplicate column …") when it cannot be read.
 */
export function inspectCsvFile(path: string): CsvFile {
  const head = readHead(path);
  if (head.length === 0) throw new CsvFileError("file is empty");
  const foreign = foreignEncoding(head);
  if (foreign) throw new CsvFileError(`file is not UTF-8: ${foreign}`);
  const text = head.toString("utf8").replace(/^\ufeff/, "");
  const nl = text.search(/\r?\n/);
  const headerLine = nl < 0 ? text : text.slice(0, nl);
  if (!headerLine.trim()) throw new CsvFileError("file is empty (its first line is blank; a header line is expected)");
  if (nl < 0 && head.length === HEAD_BYTES)
    throw new CsvFileError(`the header line is longer than ${HEAD_BYTES / 1024} KB (not a CSV file?)`);
  // the delimiter splitting the header into the most columns; one column means no delimiter at all
  const delimiter = DELIMITERS.map((d) => ({d, n: splitCsvLine(headerLine, d).length})).reduce((a, b) =>
    b.n > a.n ? b : a,
  ).d;
  const columns = splitCsvLine(headerLine, delimiter).map((c) => c.trim());
  const blank = columns.findIndex((c) => c === "");
  if (blank >= 0 && columns.length > 1)
    throw new CsvFileError(`header column ${blank + 1} has no name (header: ${headerLine.slice(0, 200)})`);
  const seen = new Set<string>();
  for (const c of columns) {
    if (seen.has(c)) throw new CsvFileError(`header names column "${c}" twice`);
    seen.add(c);
  }
  return {delimiter, columns};
}
