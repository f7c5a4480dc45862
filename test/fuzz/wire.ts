// SPDX-License-Identifier: Apache-2.0
/**
 * A minimal protobuf wire-format tree for the fuzzer: parse bytes into fields (nested messages where the
 * payload parses cleanly), mutate the tree, serialise it back with consistent (or deliberately wrong) lengths.
 */

export interface WireField {
  field: number;
  wireType: number;
  /** varint / fixed values as raw bytes (without tag); LEN payload bytes when not parsed as a message. */
  raw: Uint8Array;
  /** Parsed sub-message of a LEN field, when its payload is a well-formed message. */
  children?: WireField[];
  /** Serialise this LEN field with this length instead of the true one (the "inflated length" mutation). */
  lengthLie?: number;
}

function readVarint(b: Uint8Array, pos: number): [number, number] | undefined {
  let v = 0, mul = 1;
  for (let i = 0; i < 10; i++) {
    if (pos + i >= b.length) return undefined;
    const byte = b[pos + i];
    v += (byte & 0x7f) * mul;
    mul *= 128;
    if (!(byte & 0x80)) return [v, pos + i + 1];
  }
  return undefined;
}

export function encodeVarint(v: number): number[] {
  const out: number[] = [];
  let x = Math.max(0, Math.floor(v));
  do {
    let byte = x % 128;
    x = Math.floor(x / 128);
    if (x > 0) byte |= 0x80;
    out.push(byte);
  } while (x > 0 && out.length < 10);
  return out;
}

/** Parses a message; undefined if the bytes are not a well-formed message. Depth-capped. */
export function parseWire(b: Uint8Array, depth = 0): WireField[] | undefined {
  const out: WireField[] = [];
  let pos = 0;
  while (pos < b.length) {
    const tag = readVarint(b, pos);
    if (!tag) return undefined;
    const field = Math.floor(tag[0] / 8), wireType = tag[0] % 8;
    if (field === 0) return undefined;
    pos = tag[1];
    let end: number;
    if (wireType === 0) { const v = readVarint(b, pos); if (!v) return undefined; end = v[1]; }
    else if (wireType === 1) end = pos + 8;
    else if (wireType === 5) end = pos + 4;
    else if (wireType === 2) {
      const len = readVarint(b, pos);
      if (!len) return undefined;
      pos = len[1];
      end = pos + len[0];
    } else return undefined;
    if (end > b.length) return undefined;
    const raw = b.subarray(pos, end);
    const f: WireField = { field, wireType, raw };
    if (wireType === 2 && depth < 40 && raw.length > 1) {
      const children = parseWire(raw, depth + 1);
      if (children && children.length) f.children = children;
    }
    out.push(f);
    pos = end;
  }
  return out;
}

/** Serialises fields (children take precedence over raw for LEN fields). */
export function serializeWire(fields: WireField[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  const push = (p: Uint8Array) => { parts.push(p); total += p.length; };
  for (const f of fields) {
    push(Uint8Array.from(encodeVarint(f.field * 8 + f.wireType)));
    if (f.wireType === 2) {
      const payload = f.children ? serializeWire(f.children) : f.raw;
      push(Uint8Array.from(encodeVarint(f.lengthLie ?? payload.length)));
      push(payload);
    } else push(f.raw);
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** Every field in the tree with its parent list (for in-place edits). */
export function allFields(fields: WireField[], out: { f: WireField; parent: WireField[] }[] = []): { f: WireField; parent: WireField[] }[] {
  for (const f of fields) {
    out.push({ f, parent: fields });
    if (f.children) allFields(f.children, out);
  }
  return out;
}
