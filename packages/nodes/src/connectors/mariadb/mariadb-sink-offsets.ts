import type { Connection, RowDataPacket } from "mysql2/promise";
import type { BatchInfo } from "../../runtime-contract";

// The sink's progress, kept in the target database and written in the same transaction as the rows: which batch of
// which run partition was written, how many of its records were handled and which were refused. The same table as
// the PostgreSQL sink's (sink_id = run/node, partition, run_started_at, sequence, batch_id, rejected), plus
// `records`: how much of the batch was written, since a replayed batch can be longer than the attempt that crashed.

const SINK_OFFSETS_TABLE = "sluice_sink_offsets";

export const SINK_OFFSETS_DDL = `CREATE TABLE IF NOT EXISTS ${SINK_OFFSETS_TABLE} (
  sink_id VARCHAR(255) NOT NULL,
  \`partition\` INT NOT NULL,
  run_started_at BIGINT NOT NULL,
  sequence BIGINT NOT NULL,
  batch_id VARCHAR(255) NOT NULL,
  records INT NOT NULL,
  rejected MEDIUMTEXT NULL,
  written_at DATETIME(3) NOT NULL,
  PRIMARY KEY (sink_id, \`partition\`)
) ENGINE=InnoDB COMMENT='Sluice: the last batch each exactly-once sink wrote, per run, node and partition'`;

export interface SinkTask {
  /** `<run>/<node>`: a node runs in one stage, so with the partition this names one writer. */
  sinkId: string;
  partition: number;
  /** The run's start time: a run started over from scratch (same id, state reset) numbers its batches afresh. */
  runStartedAt: number;
}

export function sinkTask(ctx: { runId: string; nodeId: string; partition: number; runStartedAt: number }): SinkTask {
  return { sinkId: `${ctx.runId}/${ctx.nodeId}`, partition: ctx.partition, runStartedAt: ctx.runStartedAt };
}

export interface WrittenBefore {
  /** Records of this batch handled by an earlier attempt (a replay writes only the ones after them). */
  records: number;
  /** Of those, the ones the table refused: [index in the batch, reason]. */
  rejected: [number, string][];
}

/**
 * Makes sure the task's progress row exists (sequence 0), outside any transaction, so that `lockProgress` always
 * finds a row to lock: two writers of the same partition (one of them a zombie) then serialise on it instead of
 * both seeing "nothing written yet".
 */
export async function ensureProgressRow(conn: Connection, task: SinkTask): Promise<void> {
  await conn.query(
    `INSERT IGNORE INTO ${SINK_OFFSETS_TABLE}
       (sink_id, \`partition\`, run_started_at, sequence, batch_id, records, rejected, written_at)
     VALUES (?, ?, ?, 0, '', 0, NULL, NOW(3))`,
    [task.sinkId, task.partition, task.runStartedAt],
  );
}

/**
 * Locks the task's progress row and says how much of batch `sequence` is already written. A replayed batch may hold
 * more records than the attempt that crashed (a growing source returns more after the same position), never fewer
 * of the same ones, so the records after `records` are the new ones.
 */
export async function lockProgress(conn: Connection, task: SinkTask, sequence: number): Promise<WrittenBefore> {
  const [rows] = await conn.query<RowDataPacket[]>(
    `SELECT run_started_at, sequence, records, rejected FROM ${SINK_OFFSETS_TABLE}
      WHERE sink_id = ? AND \`partition\` = ? FOR UPDATE`,
    [task.sinkId, task.partition],
  );
  const row = rows[0];
  if (!row || Number(row.run_started_at) !== task.runStartedAt) return { records: 0, rejected: [] };
  const written = Number(row.sequence);
  if (written < sequence) return { records: 0, rejected: [] };
  if (written > sequence) return { records: Number.POSITIVE_INFINITY, rejected: [] };
  return {
    records: Number(row.records),
    rejected: row.rejected ? (JSON.parse(String(row.rejected)) as [number, string][]) : [],
  };
}

export async function saveProgress(
  conn: Connection,
  task: SinkTask,
  batch: BatchInfo,
  records: number,
  rejected: readonly [number, string][],
): Promise<void> {
  await conn.query(
    `INSERT INTO ${SINK_OFFSETS_TABLE}
       (sink_id, \`partition\`, run_started_at, sequence, batch_id, records, rejected, written_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, NOW(3))
     ON DUPLICATE KEY UPDATE run_started_at = VALUES(run_started_at), sequence = VALUES(sequence),
       batch_id = VALUES(batch_id), records = VALUES(records), rejected = VALUES(rejected),
       written_at = VALUES(written_at)`,
    [
      task.sinkId,
      task.partition,
      task.runStartedAt,
      batch.sequence,
      batch.batchId,
      records,
      rejected.length > 0 ? JSON.stringify(rejected) : null,
    ],
  );
}
