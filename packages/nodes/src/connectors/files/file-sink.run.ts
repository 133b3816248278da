import { constants, type FileHandle, open, rename, stat, unlink } from "node:fs/promises";
import path from "node:path";
import type { DataRecord } from "@sluice/pipeline/record-schema";
import type { BatchInfo, JsonValue, RuntimeContext, SinkRuntime } from "../../runtime-contract";
import { PermanentConnectorError, type SinkWriter } from "../../runtime-contract";
import { NodeConfigError } from "../../runtime-expressions";
import { csvEncoder, jsonLinesEncoder, type PartEncoder, parquetEncoder } from "./file-encoders";
import { IN_PROGRESS_SUFFIX } from "./file-glob";
import type { FileSinkConfig } from "./file-sink.def";
import { FilePathError, filesRoot, mkdirInRoot, resolveInRoot } from "./files-root";

// Part files written in two phases. Phase one, in write(): append the batch to `<name>.inprogress` (after cutting
// off anything an uncommitted attempt left behind), sync, and record the new length in the node's state, which the
// engine commits with the batch; a file that is full gets its footer and joins the list of files to rename. Phase
// two, once that state is committed: rename. Nothing changes the node's state unless the whole write succeeded, so
// a retried attempt starts from the committed picture.

const STATE = "files";

interface PartState {
  /** Part number within the partition. */
  n: number;
  /** Final file name, relative to the files directory; the file being written has IN_PROGRESS_SUFFIX. */
  name: string;
  /** Committed length and records. */
  bytes: number;
  records: number;
  openedAt: number;
  columns: string[];
  /** Parquet: row groups committed (each kept under `rg:<i>`). */
  groups: number;
}

interface Rename {
  from: string;
  to: string;
}

function isPart(v: JsonValue | undefined): v is JsonValue & PartState {
  return v !== null && typeof v === "object" && !Array.isArray(v) && typeof v.name === "string";
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

export const fileSinkRuntime: SinkRuntime<FileSinkConfig> = {
  kind: "sink",
  type: "sink.file",
  async open(ctx: RuntimeContext<FileSinkConfig>): Promise<SinkWriter> {
    const c = ctx.config;
    let root: string;
    let folder: string;
    try {
      root = await filesRoot(ctx);
      folder = resolveInRoot(root, c.path);
      // A folder of that name, or one on the way to it, may be a link that leads elsewhere (another workspace's
      // folder): refused before anything is made.
      await mkdirInRoot(root, folder);
    } catch (err) {
      if (err instanceof FilePathError) throw new NodeConfigError(ctx.nodeId, "path", err.message);
      throw err;
    }
    const input = ctx.inputs.in ?? { fields: [], open: true };
    const schemaColumns = c.columns ?? input.fields.map((f) => f.name);
    if (c.format !== "jsonl" && schemaColumns.length === 0) {
      throw new NodeConfigError(ctx.nodeId, "columns", `${c.format} files need the fields to write; name the Columns`);
    }
    const state = ctx.state(STATE);
    const abs = (name: string) => path.join(root, name);
    const runTag = `${ctx.runId}-${ctx.runStartedAt.toString(36)}`;
    const ext = c.format === "jsonl" ? "jsonl" : c.format;

    const encoderFor = (part: PartState, fresh: boolean): PartEncoder => {
      const options = {
        columns: part.columns,
        schema: input,
        timestamps: c.timestamps,
        delimiter: c.delimiter,
        header: c.header,
      };
      if (c.format === "csv") return csvEncoder(options);
      if (c.format === "jsonl") return jsonLinesEncoder(options, c.columns !== undefined);
      if (fresh) return parquetEncoder(options);
      const rowGroups: JsonValue[] = [];
      for (let i = 0; i < part.groups; i++) rowGroups.push(state.get(`rg:${i}`) ?? null);
      return parquetEncoder(options, { bytes: part.bytes, rowGroups });
    };

    /** The file being written, opened once per part and cut back to its committed length. */
    let handle: { name: string; fh: FileHandle; encoder: PartEncoder } | undefined;
    const closeHandle = async () => {
      await handle?.fh.close().catch(() => {});
      handle = undefined;
    };

    const completeRenames = async () => {
      const pending = (state.get("renames") ?? []) as unknown as Rename[];
      if (pending.length === 0) return;
      for (const r of pending) {
        if (await exists(abs(r.from))) await rename(abs(r.from), abs(r.to));
        else if (!(await exists(abs(r.to)))) ctx.log.warn("a completed file is missing", { file: r.to });
      }
      state.set("renames", []);
    };

    let lastWriteOk = false;
    let hookSeen = false;
    let uncommitted = false;

    // What the last commit says: renames it decided are due now.
    await completeRenames();

    const newPart = (n: number, columns: string[]): PartState => ({
      n,
      name: path.posix.join(
        path.relative(root, folder).split(path.sep).join("/"),
        `${c.prefix}-${runTag}-p${ctx.partition}-${String(n).padStart(5, "0")}.${ext}`,
      ),
      bytes: 0,
      records: 0,
      openedAt: Date.now(),
      columns,
      groups: 0,
    });

    /** Opens the part's in-progress file at its committed length. Undefined: it was already completed. */
    const openPart = async (part: PartState): Promise<NonNullable<typeof handle> | undefined> => {
      if (handle?.name === part.name) return handle;
      await closeHandle();
      const file = abs(part.name) + IN_PROGRESS_SUFFIX;
      if (!(await exists(file))) {
        // Completed when the last owner closed (see close()), or lost.
        if (await exists(abs(part.name))) return undefined;
        if (part.bytes > 0) {
          throw new PermanentConnectorError(
            `${part.name}${IN_PROGRESS_SUFFIX} held ${part.records} committed records and has disappeared`,
          );
        }
      }
      // Never through a link planted under the part's name: writes stay in the folder checked above.
      const flags = part.bytes > 0 ? constants.O_RDWR : constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC;
      const fh = await open(file, flags | constants.O_NOFOLLOW, 0o666);
      // Bytes beyond the committed length belong to an attempt that was never committed.
      const { size } = await fh.stat();
      if (size !== part.bytes) await fh.truncate(part.bytes);
      handle = { name: part.name, fh, encoder: encoderFor(part, part.bytes === 0) };
      return handle;
    };

    const append = async (h: NonNullable<typeof handle>, at: number, bytes: Buffer) => {
      let done = 0;
      while (done < bytes.length) {
        const { bytesWritten } = await h.fh.write(bytes, done, bytes.length - done, at + done);
        done += bytesWritten;
      }
    };

    /** Writes the footer of `part` at its end; the file is then ready to be renamed. */
    const seal = async (part: PartState): Promise<{ rename: Rename; bytes: number }> => {
      const h = await openPart(part);
      let bytes = part.bytes;
      if (h) {
        const footer = h.encoder.finish();
        await append(h, part.bytes, footer);
        if (c.fsync) await h.fh.sync();
        bytes += footer.length;
        await closeHandle();
      }
      return { rename: { from: part.name + IN_PROGRESS_SUFFIX, to: part.name }, bytes };
    };

    const columnsFor = (records: readonly DataRecord[]): string[] =>
      schemaColumns.length > 0 ? [...schemaColumns] : Object.keys(records[0] ?? {});

    return {
      async write(records, batch: BatchInfo) {
        if (records.length === 0) return;
        lastWriteOk = false;
        uncommitted = true;
        await completeRenames();
        const renames: Rename[] = [];
        let next = Number(state.get("next") ?? 1);
        const stored = state.get("part");
        let part: PartState | undefined = isPart(stored) ? { ...(stored as unknown as PartState) } : undefined;
        const now = Date.now();

        if (part && c.rollInterval !== undefined && part.records > 0 && now - part.openedAt >= c.rollInterval) {
          renames.push((await seal(part)).rename);
          part = undefined;
        }
        let h = part ? await openPart(part) : undefined;
        if (part && !h) part = undefined; // completed by the last owner's close: start the next one
        if (!part) {
          part = newPart(next++, columnsFor(records));
          h = await openPart(part);
        }
        const opened = h!;
        const head = part.bytes === 0 ? opened.encoder.start() : Buffer.alloc(0);
        const body = opened.encoder.encode(records);
        const bytes = head.length > 0 ? Buffer.concat([head, body]) : body;
        await append(opened, part.bytes, bytes);
        if (c.fsync) await opened.fh.sync();
        const groupsBefore = part.groups;
        const newGroups = opened.encoder.rowGroups(groupsBefore);
        part = {
          ...part,
          bytes: part.bytes + bytes.length,
          records: part.records + records.length,
          groups: groupsBefore + newGroups.length,
        };
        const full = part.bytes >= c.rollBytes || (c.rollRecords !== undefined && part.records >= c.rollRecords);
        let sealedGroups = 0;
        if (full) {
          renames.push((await seal(part)).rename);
          sealedGroups = part.groups;
        }

        // Everything happened: now, and only now, the state changes (committed by the engine with the batch).
        for (const [i, g] of newGroups.entries()) state.set(`rg:${groupsBefore + i}`, g);
        if (full) {
          for (let i = 0; i < sealedGroups; i++) state.delete(`rg:${i}`);
          state.delete("part");
        } else state.set("part", part as unknown as JsonValue);
        state.set("next", next);
        if (renames.length > 0) state.set("renames", renames as unknown as JsonValue);
        state.set("batch", batch.batchId);
        lastWriteOk = true;
      },
      async committed() {
        hookSeen = true;
        uncommitted = false;
        await completeRenames();
      },
      async close() {
        // Complete the current file only when what it holds is committed (see the docs: without the engine's
        // committed() call, "the last write succeeded" stands in for it).
        const safe = hookSeen ? !uncommitted : lastWriteOk;
        const stored = state.get("part");
        if (safe) {
          await completeRenames();
          if (isPart(stored)) {
            const part = stored as unknown as PartState;
            if (part.records === 0) {
              await closeHandle();
              await unlink(abs(part.name) + IN_PROGRESS_SUFFIX).catch(() => {});
            } else {
              const { rename: r } = await seal(part);
              if (await exists(abs(r.from))) await rename(abs(r.from), abs(r.to));
            }
          }
        }
        await closeHandle();
      },
    };
  },
};
