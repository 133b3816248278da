import type { GeneratorFieldSpec } from "./generator.def";

// Deterministic values: each one is a pure function of (seed, record index, field slot), so any partition on any
// worker can produce record i on its own and a replay produces the same bytes.

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniform number in [0, 1) for (seed, index, slot). Index may exceed 2^32. */
export function unit(seed: number, index: number, slot: number): number {
  const lo = index >>> 0;
  const hi = Math.floor(index / 4294967296) >>> 0;
  let h = fmix32(seed ^ 0x9e3779b9);
  h = fmix32(h ^ lo);
  h = fmix32(h ^ Math.imul(hi + 1, 0x27d4eb2f));
  h = fmix32(h ^ Math.imul(slot + 1, 0x165667b1));
  return h / 4294967296;
}

const ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const HEX = "0123456789abcdef";

const ALPHABET_CODES = Array.from(ALPHABET, (c) => c.charCodeAt(0));

function randomText(seed: number, index: number, slot: number, length: number): string {
  let state = Math.floor(unit(seed, index, slot) * 4294967296) || 1;
  const next = () => {
    // xorshift32: cheap, and seeded from the mixed value above so it is still a function of (seed, index, slot)
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % ALPHABET.length;
  };
  // Built from char codes in one go (a string grown by `+=` becomes a rope of one node per character: a
  // 4,096-character string would take 128 KiB, not 4 KiB).
  const codes = new Array<number>(length);
  for (let i = 0; i < length; i++) codes[i] = ALPHABET_CODES[next()]!;
  return String.fromCharCode(...codes);
}

function uuid(seed: number, index: number, slot: number): string {
  let hex = "";
  for (let part = 0; part < 4; part++) {
    const word = Math.floor(unit(seed, index, slot * 8 + part) * 4294967296);
    for (let s = 28; s >= 0; s -= 4) hex += HEX[(word >>> s) & 15];
  }
  const variant = HEX[8 + (Number.parseInt(hex[16] ?? "0", 16) & 3)];
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export type ValueFn = (index: number) => unknown;

/** Compiles one field spec into a value function; `slot` keeps fields independent of each other. */
export function valueFunction(spec: GeneratorFieldSpec, seed: number, slot: number): ValueFn {
  const base = valueWithoutNulls(spec, seed, slot);
  if (spec.nullRate <= 0) return base;
  const rate = spec.nullRate;
  return (i) => (unit(seed, i, slot + 0x10000) < rate ? null : base(i));
}

function valueWithoutNulls(spec: GeneratorFieldSpec, seed: number, slot: number): ValueFn {
  switch (spec.kind) {
    case "sequence":
      return (i) => i;
    case "int": {
      const span = spec.max - spec.min + 1;
      const min = spec.min;
      return (i) => min + Math.floor(unit(seed, i, slot) * span);
    }
    case "float": {
      const span = spec.max - spec.min;
      const min = spec.min;
      const scale = 10 ** spec.decimals;
      return (i) => Math.round((min + unit(seed, i, slot) * span) * scale) / scale;
    }
    case "choice": {
      const values = spec.values;
      return (i) => values[Math.floor(unit(seed, i, slot) * values.length)];
    }
    case "boolean": {
      const p = spec.probability;
      return (i) => unit(seed, i, slot) < p;
    }
    case "string": {
      const length = spec.length;
      return (i) => randomText(seed, i, slot, length);
    }
    case "uuid":
      return (i) => uuid(seed, i, slot);
  }
}
