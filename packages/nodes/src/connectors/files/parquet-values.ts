import type { FileHandle } from "node:fs/promises";
import type { AsyncBuffer } from "hyparquet";

// Parquet values as record values, and a local file as hyparquet's AsyncBuffer. Server-only.

/** bigint → number (exact text beyond 2^53), Date → epoch ms, bytes → base64, nested values recursively. */
export function plainValue(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.getTime();
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64");
  if (Array.isArray(v)) return v.map(plainValue);
  if (typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = plainValue(x);
    return out;
  }
  return v;
}

export function fileAsyncBuffer(handle: FileHandle, byteLength: number): AsyncBuffer {
  return {
    byteLength,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const stop = Math.min(end ?? byteLength, byteLength);
      const buf = new Uint8Array(Math.max(0, stop - start));
      let done = 0;
      while (done < buf.length) {
        const { bytesRead } = await handle.read(buf, done, buf.length - done, start + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return buf.buffer;
    },
  };
}
