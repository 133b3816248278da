// Log sequence numbers: positions in PostgreSQL's write-ahead log, written "16/B374D848" (high and low 32 bits in
// hex). Kept as bigint in memory and as that text in offsets. Pure.

export function parseLsn(text: string): bigint {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text);
  if (!m) throw new Error(`"${text}" is not a WAL position (LSN), e.g. 16/B374D848`);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

export function laterLsn(a: bigint, b: bigint): bigint {
  if (a >= b) return a;
  return b;
}
