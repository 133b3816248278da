import { createHash } from "node:crypto";
import type { DataRecord } from "@sluice/pipeline/record-schema";
import { ownValue, setField } from "../../record-fields";
import type { RejectedRecord } from "../../runtime-contract";
import { parseJsonText, TextParseError } from "../../transforms/parse-text";
import { type Declared, pickDeclared } from "../files/declared-fields";
import { declaredFields, type SinkPayloadConfig, type SourcePayloadConfig } from "./payload";

// Payload ↔ record at run time, for the message connectors. Decoding is on the hot path of every source (Redis
// Streams reads 300k+ records/s), so the common case — a JSON object, nothing declared — is one JSON.parse.
// Server-only.

export type Payload = string | Uint8Array;

const utf8 = new TextDecoder("utf-8", { fatal: false });

function asText(payload: Payload): string {
  return typeof payload === "string" ? payload : utf8.decode(payload);
}

function asBase64(payload: Payload): string {
  return typeof payload === "string"
    ? Buffer.from(payload, "utf8").toString("base64")
    : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString("base64");
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  return value !== null && typeof value === "object" ? "an object" : `${typeof value} ${String(value)}`;
}

export class PayloadDecoder {
  private readonly declared: Declared[] | undefined;
  private readonly format: SourcePayloadConfig["format"];
  private readonly payloadField: string;
  readonly withMetadata: boolean;

  constructor(c: SourcePayloadConfig) {
    this.declared = declaredFields(c);
    this.format = c.format;
    this.payloadField = c.payloadField;
    this.withMetadata = c.metadata;
  }

  /** The record for a payload (throws TextParseError/RecordError when it cannot be read). */
  decode(payload: Payload): DataRecord {
    switch (this.format) {
      case "text":
        return { [this.payloadField]: asText(payload) };
      case "bytes-base64":
        return { [this.payloadField]: asBase64(payload) };
      case "fields":
        throw new TextParseError("the fields format reads an entry's field-value pairs: use decodeFields");
      default: {
        const value = parseJsonText(asText(payload));
        if (value === null || typeof value !== "object" || Array.isArray(value)) {
          throw new TextParseError(`expected a JSON object but found ${describe(value)}`);
        }
        return this.declared ? this.pick(value as DataRecord, false) : (value as DataRecord);
      }
    }
  }

  /** The record for a Redis Streams entry's field-value pairs (`fields` format). */
  decodeFields(pairs: readonly string[]): DataRecord {
    const out: DataRecord = {};
    for (let i = 0; i + 1 < pairs.length; i += 2) setField(out, pairs[i]!, pairs[i + 1]);
    return this.declared ? this.pick(out, true) : out;
  }

  /** The declared fields of `object`, converted to their types. */
  private pick(object: DataRecord, fromText: boolean): DataRecord {
    return pickDeclared(object, this.declared!, fromText);
  }

  /**
   * What a source hands the engine for a payload it could not read: the error, and the payload (as text when it
   * is valid UTF-8, else base64) with the message's metadata, so the dead letter says what arrived and from where.
   */
  undecoded(payload: Payload | readonly string[], err: unknown, metadata: DataRecord): RejectedRecord {
    const record: DataRecord = {};
    if (Array.isArray(payload)) record.fields = payload;
    else {
      const bytes = typeof payload === "string" ? undefined : (payload as Uint8Array);
      const text = bytes ? utf8.decode(bytes) : (payload as string);
      // Text that survives a round trip is shown as text; anything else as base64.
      if (!bytes || Buffer.from(text, "utf8").equals(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)))
        record.payload = text;
      else record.payload_base64 = asBase64(bytes);
    }
    for (const [k, v] of Object.entries(metadata)) setField(record, k, v);
    return { error: err instanceof Error ? err.message : String(err), record };
  }
}

/** Adds metadata fields to a decoded record (they win over payload fields of the same name). */
export function withMetadata(record: DataRecord, metadata: DataRecord): DataRecord {
  for (const key in metadata) setField(record, key, metadata[key]);
  return record;
}

// ---- sinks ----------------------------------------------------------------------------------------------------

/**
 * A record as a payload. Never throws: a sink cannot set one record aside (the batch is retried whole), so every
 * value has a payload — a missing or NULL value field sends an empty payload, a non-text value in text or
 * bytes-base64 its JSON text.
 */
export class PayloadEncoder {
  private readonly format: SinkPayloadConfig["format"];
  private readonly valueField: string | undefined;

  constructor(c: SinkPayloadConfig) {
    this.format = c.format;
    this.valueField = c.valueField;
  }

  encode(record: DataRecord): string | Buffer {
    const v = this.valueField === undefined ? record : ownValue(record, this.valueField);
    switch (this.format) {
      case "text":
        return v === null || v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v);
      case "bytes-base64":
        if (typeof v === "string") return Buffer.from(v, "base64");
        return Buffer.from(v === null || v === undefined ? "" : JSON.stringify(v), "utf8");
      default:
        return v === undefined ? "null" : JSON.stringify(v);
    }
  }
}

/** A short content hash of a payload, for message ids that stay the same only when the content does. */
function payloadHash(payload: string | Uint8Array): string {
  return createHash("sha1").update(payload).digest("base64url").slice(0, 12);
}

/**
 * The id of message `index` of a batch: the same batch written again after a crash (a replay from a replayable
 * source) gives the same ids, so a broker's duplicate detection — or a consumer — can drop the copies. The content
 * hash keeps a batch that reuses the sequence number with other records (a non-replayable source redelivers what
 * it likes after a crash) from being mistaken for the first one.
 */
export function messageId(batchId: string, index: number, payload: string | Uint8Array): string {
  return `${batchId}:${index}:${payloadHash(payload)}`;
}
