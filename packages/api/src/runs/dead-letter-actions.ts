import type { Db } from "@sluice/db/client";
import type { Prisma } from "@sluice/db/generated/prisma/client";
import { type DeadLetterGroupRef, matchesGroup } from "@sluice/pipeline/control/dead-letter-reason";
import type { Keys, TaskRef } from "@sluice/pipeline/control/keys";
import { parseRunMeta, type RunMeta, runTaskRefs } from "@sluice/pipeline/control/protocol";
import { type RunEventDetail, type RunEventKind, recordUserEvent } from "@sluice/pipeline/control/run-events";
import {
  type DeadLetterView,
  parseDeadLetterId,
  type StoredDeadLetter,
  scanDeadLetters,
  storedDeadLetter,
} from "@sluice/pipeline/control/run-reader";
import { fromDbStatus, RUN_STATUS_LABELS, TERMINAL_DB_STATUSES } from "@sluice/pipeline/control/run-status";
import type { DataRecord } from "@sluice/pipeline/record-schema";
import { TRPCError } from "@trpc/server";
import type { Redis } from "ioredis";
import { compileRecordFix, describeFixProblems, type RecordFix, RecordFixError } from "./dead-letter-fix";

// What people do with a run's dead letters: send them back where they failed (replay), fix their records by hand
// or with an expression (and replay them, or keep them for later), or discard them with a reason. Each letter is
// acted on at most once: one Lua script per partition (all its keys share the partition's hash tag) checks the
// letter is still there and removes it in the same step as it re-queues, rewrites or discards it, so two clicks or
// two users never replay one letter twice. Every action goes on the run's timeline with who did it.

export interface DeadLetterActionDeps {
  db: Db;
  redis: Redis;
  keys: Keys;
}

/** Which letters: the ids given, a group (node and reason), or with neither every letter the run holds. */
export interface DeadLetterTarget {
  ids?: readonly string[] | undefined;
  group?: DeadLetterGroupRef | undefined;
}

/** Who acts, as the timeline names them. */
export interface Actor {
  name: string;
}

/**
 * KEYS: the partition's dead letters, where letters go (its replay stream, or the dead letters themselves for a fix
 * kept there), its discarded counter. ARGV[1] is the mode. `move` and `discard`: entry ids, or `*` and n for the
 * oldest n; `rewrite`: pairs of entry id and the letter that replaces it. Returns how many letters it acted on:
 * letters already gone (replayed or discarded by someone else) are skipped. Keys it creates after the run ended get
 * the dead letters' expiry, so nothing outlives the run's retention.
 */
const ACT_LUA = `
local mode = ARGV[1]
local ttl = redis.call('PTTL', KEYS[1])
local done = 0
if mode == 'rewrite' then
  for i = 2, #ARGV, 2 do
    if #redis.call('XRANGE', KEYS[1], ARGV[i], ARGV[i]) == 1 then
      redis.call('XDEL', KEYS[1], ARGV[i])
      redis.call('XADD', KEYS[2], '*', 'e', ARGV[i + 1])
      done = done + 1
    end
  end
else
  local ids = {}
  if ARGV[2] == '*' then
    for _, e in ipairs(redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', ARGV[3])) do table.insert(ids, e[1]) end
  else
    for i = 2, #ARGV do table.insert(ids, ARGV[i]) end
  end
  for _, id in ipairs(ids) do
    local found = redis.call('XRANGE', KEYS[1], id, id)
    if #found == 1 then
      if mode == 'move' then redis.call('XADD', KEYS[2], '*', unpack(found[1][2])) end
      redis.call('XDEL', KEYS[1], id)
      done = done + 1
    end
  end
  if mode == 'discard' and done > 0 then redis.call('INCRBY', KEYS[3], done) end
end
if ttl > 0 and done > 0 then
  redis.call('PEXPIRE', KEYS[2], ttl)
  if mode == 'discard' then redis.call('PEXPIRE', KEYS[3], ttl) end
end
return done
`;

/** Letters one script call handles at most, so Redis is never held for long (a partition may hold a million). */
const SLICE = 1000;
/** Letters one fix rewrites at most: expressions run in the web process, so one request's work is bounded. */
const MAX_FIX = 10_000;
/** Letters a fix preview shows. */
const PREVIEW = 5;

async function actionableRun(deps: DeadLetterActionDeps, workspaceId: string, runId: string) {
  const run = await deps.db.run.findFirst({ where: { id: runId, workspaceId }, select: { id: true, status: true } });
  if (!run) throw new TRPCError({ code: "NOT_FOUND", message: "no such run in this workspace" });
  const meta = parseRunMeta(await deps.redis.hgetall(deps.keys.runMeta(runId)));
  if (!meta) {
    const message = `Run ${runId}'s state has expired (it is kept for SLUICE_RUN_RETENTION after a run ends), and its dead letters with it.`;
    throw new TRPCError({ code: "PRECONDITION_FAILED", message });
  }
  return { run, meta };
}

/** Why a replay into this run cannot work, or undefined when it can. */
export function replayRefusal(runId: string, status: Parameters<typeof fromDbStatus>[0]): string | undefined {
  if (!TERMINAL_DB_STATUSES.includes(status)) return undefined;
  const now = RUN_STATUS_LABELS[fromDbStatus(status)].toLowerCase();
  return `Run ${runId} is ${now}: no task is running to take replayed dead letters in. Restart it from its last commit, then replay them.`;
}

function taskKey(t: { stage: number; partition: number }): string {
  return `${t.stage}.${t.partition}`;
}

/** The target's entry ids per partition; undefined for "every letter" (the scripts then take the oldest slices). */
async function targetIds(
  deps: DeadLetterActionDeps,
  runId: string,
  meta: RunMeta,
  target: DeadLetterTarget,
  needIds: boolean,
): Promise<Map<string, string[]> | undefined> {
  const byTask = new Map<string, string[]>();
  const add = (key: string, id: string) => {
    const list = byTask.get(key);
    if (list) list.push(id);
    else byTask.set(key, [id]);
  };
  if (target.ids) {
    for (const id of target.ids) {
      const ref = parseDeadLetterId(id);
      if (ref) add(taskKey(ref), ref.streamId); // the input schema let only listed ids through
    }
    return byTask;
  }
  if (!target.group && !needIds) return undefined;
  const group = target.group;
  await scanDeadLetters(deps.redis, deps.keys, runId, meta, (letter: DeadLetterView) => {
    if (!group || matchesGroup(letter, group)) add(taskKey(letter), letter.id.split(".")[2]!);
  });
  return byTask;
}

async function act(
  deps: DeadLetterActionDeps,
  t: TaskRef,
  mode: "move" | "discard" | "rewrite",
  destination: string,
  args: readonly string[],
): Promise<number> {
  const keys = [deps.keys.taskDeadLetters(t), destination, deps.keys.taskDiscarded(t)];
  return Number(await deps.redis.eval(ACT_LUA, 3, ...keys, mode, ...args));
}

/** Moves or discards the target's letters, partition by partition; how many it acted on. */
async function moveOrDiscard(
  deps: DeadLetterActionDeps,
  runId: string,
  meta: RunMeta,
  target: DeadLetterTarget,
  mode: "move" | "discard",
): Promise<number> {
  const byTask = await targetIds(deps, runId, meta, target, false);
  let done = 0;
  for (const t of runTaskRefs(runId, meta.stages)) {
    const to = deps.keys.taskReplay(t);
    if (byTask) {
      const ids = byTask.get(taskKey(t)) ?? [];
      for (let i = 0; i < ids.length; i += SLICE) done += await act(deps, t, mode, to, ids.slice(i, i + SLICE));
      continue;
    }
    // Those there now: letters that fail again while this runs come back behind them and are not taken again.
    for (let left = await deps.redis.xlen(deps.keys.taskDeadLetters(t)); left > 0; ) {
      const n = await act(deps, t, mode, to, ["*", String(Math.min(left, SLICE))]);
      done += n;
      left = n === 0 ? 0 : left - n;
    }
  }
  return done;
}

/** How the timeline names the letters acted on. */
function scopeOf(target: DeadLetterTarget): string {
  if (target.ids) return "selected";
  if (target.group) return `node ${target.group.nodeId}: ${target.group.reason}`;
  return "all";
}

/** Puts an action on the run's timeline: in its Redis stream (ordered with the fleet's events) and in PostgreSQL. */
async function recordAction(
  deps: DeadLetterActionDeps,
  runId: string,
  kind: RunEventKind,
  detail: RunEventDetail,
): Promise<void> {
  const entry = await recordUserEvent(deps.redis, deps.keys, runId, kind, detail);
  if (!entry) return;
  const { kind: _kind, ...fields } = entry.fields;
  // Stored at once, not only when the run ends: the stream is capped, and this is who did what.
  await deps.db.runEvent.createMany({
    data: [
      {
        runId,
        streamId: entry.id,
        at: new Date(Number(entry.id.split("-")[0])),
        kind,
        detail: fields as Prisma.InputJsonValue,
      },
    ],
    skipDuplicates: true,
  });
}

/** Sends the target's dead letters back where they failed, into the running job; each at most once. */
export async function replayDeadLetters(
  deps: DeadLetterActionDeps,
  workspaceId: string,
  runId: string,
  target: DeadLetterTarget,
  actor: Actor,
): Promise<{ replayed: number }> {
  const { run, meta } = await actionableRun(deps, workspaceId, runId);
  const refusal = replayRefusal(runId, run.status);
  if (refusal) throw new TRPCError({ code: "PRECONDITION_FAILED", message: refusal });
  const replayed = await moveOrDiscard(deps, runId, meta, target, "move");
  if (replayed > 0) {
    await recordAction(deps, runId, "dead-letters-replayed", {
      by: actor.name,
      count: replayed,
      scope: scopeOf(target),
    });
  }
  return { replayed };
}

/** Removes the target's dead letters for good, counting them as discarded, with the reason on the timeline. */
export async function discardDeadLetters(
  deps: DeadLetterActionDeps,
  workspaceId: string,
  runId: string,
  target: DeadLetterTarget,
  reason: string,
  actor: Actor,
): Promise<{ discarded: number }> {
  const { meta } = await actionableRun(deps, workspaceId, runId);
  const discarded = await moveOrDiscard(deps, runId, meta, target, "discard");
  if (discarded > 0) {
    const detail = { by: actor.name, count: discarded, scope: scopeOf(target), reason };
    await recordAction(deps, runId, "dead-letters-discarded", detail);
  }
  return { discarded };
}

interface FoundLetter {
  t: TaskRef;
  id: string;
  streamId: string;
  letter: StoredDeadLetter;
}

/** The stored letters of up to `limit` of the target's ids (those still there), newest partition order kept. */
async function readTargetLetters(
  deps: DeadLetterActionDeps,
  runId: string,
  meta: RunMeta,
  target: DeadLetterTarget,
  limit: number,
): Promise<{ found: FoundLetter[]; more: number }> {
  const byTask = (await targetIds(deps, runId, meta, target, true)) ?? new Map<string, string[]>();
  const wanted: { t: TaskRef; streamId: string }[] = [];
  let more = 0;
  for (const t of runTaskRefs(runId, meta.stages)) {
    for (const streamId of byTask.get(taskKey(t)) ?? []) {
      if (wanted.length < limit) wanted.push({ t, streamId });
      else more++;
    }
  }
  const found: FoundLetter[] = [];
  for (let i = 0; i < wanted.length; i += SLICE) {
    const slice = wanted.slice(i, i + SLICE);
    const reads = deps.redis.pipeline();
    for (const w of slice) reads.xrange(deps.keys.taskDeadLetters(w.t), w.streamId, w.streamId);
    const results = (await reads.exec()) ?? [];
    slice.forEach((w, j) => {
      const entries = results[j]?.[1] as [string, string[]][] | undefined;
      const entry = entries?.[0];
      if (!entry) return; // replayed or discarded meanwhile
      found.push({
        t: w.t,
        id: `${taskKey(w.t)}.${w.streamId}`,
        streamId: w.streamId,
        letter: storedDeadLetter(entry[1]),
      });
    });
  }
  return { found, more };
}

function compileOrRefuse(expression: string): RecordFix {
  const compiled = compileRecordFix(expression);
  if (!compiled.ok) {
    throw new TRPCError({ code: "BAD_REQUEST", message: `expression: ${describeFixProblems(compiled.problems)}` });
  }
  return compiled.fix;
}

function applyFix(fix: RecordFix, record: unknown): { ok: true; record: DataRecord } | { ok: false; error: string } {
  if (record === null || typeof record !== "object" || Array.isArray(record)) {
    return { ok: false, error: "the dead letter holds no record (an object) to fix" };
  }
  try {
    return { ok: true, record: fix(record as DataRecord) };
  } catch (err) {
    return { ok: false, error: err instanceof RecordFixError ? err.message : String(err) };
  }
}

interface FixPreviewRow {
  id: string;
  before: unknown;
  after: unknown;
  error: string | null;
}

/** What an expression would make of the first few of the target's letters; nothing is changed. */
export async function previewDeadLetterFix(
  deps: DeadLetterActionDeps,
  workspaceId: string,
  runId: string,
  target: DeadLetterTarget,
  expression: string,
): Promise<{ rows: FixPreviewRow[] }> {
  const fix = compileOrRefuse(expression);
  const { meta } = await actionableRun(deps, workspaceId, runId);
  const { found } = await readTargetLetters(deps, runId, meta, target, PREVIEW);
  return {
    rows: found.map(({ id, letter }) => {
      const result = applyFix(fix, letter.record);
      return result.ok
        ? { id, before: letter.record ?? null, after: result.record, error: null }
        : { id, before: letter.record ?? null, after: null, error: result.error };
    }),
  };
}

interface FixOutcome {
  /** Letters fixed (and replayed, when asked). */
  fixed: number;
  /** Letters the expression failed on: they stay as they were. */
  failed: number;
  /** The first of those failures, naming the letter. */
  firstError: string | null;
  /** Letters of the target beyond this request's limit (MAX_FIX), left for another one. */
  remaining: number;
  replayed: boolean;
}

/** Rewrites letters (each still there) with their fixed records: back for another try, or kept as dead letters. */
async function rewrite(
  deps: DeadLetterActionDeps,
  fixes: readonly { t: TaskRef; streamId: string; letter: StoredDeadLetter }[],
  replay: boolean,
): Promise<number> {
  const byTask = new Map<string, { t: TaskRef; args: string[] }>();
  for (const f of fixes) {
    const key = taskKey(f.t);
    const entry = byTask.get(key) ?? { t: f.t, args: [] };
    entry.args.push(f.streamId, JSON.stringify(f.letter));
    byTask.set(key, entry);
  }
  let done = 0;
  for (const { t, args } of byTask.values()) {
    const to = replay ? deps.keys.taskReplay(t) : deps.keys.taskDeadLetters(t);
    for (let i = 0; i < args.length; i += 2 * SLICE)
      done += await act(deps, t, "rewrite", to, args.slice(i, i + 2 * SLICE));
  }
  return done;
}

/**
 * Applies an expression to the target's letters (up to MAX_FIX of them): each fixed record replaces its letter's,
 * which goes back for another try with `replay`, or stays a dead letter (marked fixed) to be replayed later. Letters
 * the expression fails on stay as they were and are counted.
 */
export async function fixDeadLettersWithExpression(
  deps: DeadLetterActionDeps,
  workspaceId: string,
  runId: string,
  target: DeadLetterTarget,
  expression: string,
  replay: boolean,
  actor: Actor,
): Promise<FixOutcome> {
  const fix = compileOrRefuse(expression);
  const { run, meta } = await actionableRun(deps, workspaceId, runId);
  const refusal = replay ? replayRefusal(runId, run.status) : undefined;
  if (refusal) throw new TRPCError({ code: "PRECONDITION_FAILED", message: refusal });
  const { found, more } = await readTargetLetters(deps, runId, meta, target, MAX_FIX);
  const at = Date.now();
  const fixes: { t: TaskRef; streamId: string; letter: StoredDeadLetter }[] = [];
  let failed = 0;
  let firstError: string | null = null;
  for (const f of found) {
    const result = applyFix(fix, f.letter.record);
    if (!result.ok) {
      failed++;
      firstError ??= `dead letter ${f.id}: ${result.error}`;
      continue;
    }
    const fixed = { ...f.letter, record: result.record, fixed: { by: actor.name, at, how: expression } };
    fixes.push({ t: f.t, streamId: f.streamId, letter: fixed });
  }
  const fixed = await rewrite(deps, fixes, replay);
  if (fixed > 0) {
    const detail = { by: actor.name, count: fixed, scope: scopeOf(target), fix: expression, replayed: replay };
    await recordAction(deps, runId, "dead-letters-fixed", detail);
  }
  return { fixed, failed, firstError, remaining: more, replayed: replay };
}

/** The record of one letter replaced by the one a user wrote (JSON text, checked); replayed at once with `replay`. */
export async function fixDeadLetterByHand(
  deps: DeadLetterActionDeps,
  workspaceId: string,
  runId: string,
  id: string,
  recordJson: string,
  replay: boolean,
  actor: Actor,
): Promise<{ fixed: number; replayed: boolean }> {
  const record = parseRecordJson(recordJson);
  const { run, meta } = await actionableRun(deps, workspaceId, runId);
  const refusal = replay ? replayRefusal(runId, run.status) : undefined;
  if (refusal) throw new TRPCError({ code: "PRECONDITION_FAILED", message: refusal });
  const { found } = await readTargetLetters(deps, runId, meta, { ids: [id] }, 1);
  const letter = found[0];
  if (!letter) {
    const message = `dead letter ${id} is no longer there: it was replayed, fixed or discarded meanwhile.`;
    throw new TRPCError({ code: "CONFLICT", message });
  }
  const fixedLetter = { ...letter.letter, record, fixed: { by: actor.name, at: Date.now(), how: "by hand" } };
  const fixed = await rewrite(deps, [{ t: letter.t, streamId: letter.streamId, letter: fixedLetter }], replay);
  if (fixed === 0) {
    const message = `dead letter ${id} is no longer there: it was replayed, fixed or discarded meanwhile.`;
    throw new TRPCError({ code: "CONFLICT", message });
  }
  await recordAction(deps, runId, "dead-letters-fixed", {
    by: actor.name,
    count: 1,
    scope: `dead letter ${id}`,
    fix: "by hand",
    replayed: replay,
  });
  return { fixed, replayed: replay };
}

/** A record as a user typed it: JSON text of an object, or a 400 naming what is wrong and where. */
function parseRecordJson(text: string): DataRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new TRPCError({ code: "BAD_REQUEST", message: `record: not valid JSON (${detail}).` });
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    const what = value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
    throw new TRPCError({ code: "BAD_REQUEST", message: `record: a record is a JSON object ({ … }), not ${what}.` });
  }
  return value as DataRecord;
}
