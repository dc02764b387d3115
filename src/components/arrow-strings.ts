/**
 * Fast string columns for rows.ts. Kept apart from it (no npm: imports at run time) so Node's
 * unit tests can run it against real apache-arrow vectors.
 */
import type {Vector} from "npm:apache-arrow";

const ascii = new TextDecoder("latin1");

/**
 * The strings of a Utf8 column without nulls whose bytes are all ASCII, decoded once per chunk
 * and sliced. Arrow decodes value by value, which was the slowest step of a 100,000-account page
 * (0.55 s of TextDecoder calls in a Chromium profile; this takes about a fifth of that). Null
 * when the column does not qualify — the caller then lets Arrow decode it.
 */
export function asciiStrings(v: Pick<Vector, "nullCount" | "data">): string[] | null {
  if (v.nullCount > 0) return null;
  const out: string[] = [];
  for (const d of v.data) {
    const bytes = d.values as Uint8Array;
    // Arrow narrows the offsets of a sliced chunk to the slice itself: entry i is value i's start
    const offsets = d.valueOffsets as Int32Array;
    const lo = offsets[0]!;
    const hi = offsets[d.length]!;
    for (let k = lo; k < hi; k++) if (bytes[k]! > 0x7f) return null;
    const text = ascii.decode(bytes.subarray(lo, hi));
    for (let i = 0; i < d.length; i++) out.push(text.slice(offsets[i]! - lo, offsets[i + 1]! - lo));
  }
  return out;
}

/**
 * The strings of a dictionary-encoded Utf8 column (how `exportArrow` ships repeated strings):
 * each chunk's dictionary is decoded once and its indices looked up, nulls kept. Null when the
 * column is not one (the caller then lets Arrow decode it).
 */
export function dictionaryStrings(v: Pick<Vector, "type" | "data">): (string | null)[] | null {
  if (!/^Dictionary<Int(8|16|32), Utf8>$/.test(String(v.type))) return null;
  const out: (string | null)[] = [];
  for (const d of v.data) {
    const dict = d.dictionary!;
    const words = asciiStrings(dict) ?? Array.from(dict as Iterable<string>);
    const indices = d.values as Int8Array | Int16Array | Int32Array;
    // indices are narrowed to the chunk; the validity bitmap is not (bit `offset + i`)
    const valid = d.nullCount > 0 ? d.nullBitmap : undefined;
    for (let i = 0; i < d.length; i++) {
      const bit = d.offset + i;
      out.push(valid && !(valid[bit >> 3]! & (1 << (bit & 7))) ? null : words[indices[i]!]!);
    }
  }
  return out;
}
