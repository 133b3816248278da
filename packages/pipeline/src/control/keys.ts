// Redis key layout shared by the engine (writes) and the API (reads, control). Every key of one task
// partition shares the hash tag {run:stage:partition} so one Lua script can touch them on Redis Cluster;
// run-level keys share {run}. run-state.ts's runKeys lists every key one run owns: a new kind of run key must be
// named there too, or it outlives the run's retention.

export interface TaskRef {
  runId: string;
  stage: number;
  partition: number;
}

export function taskId(t: TaskRef): string {
  return `${t.runId}-${t.stage}-${t.partition}`;
}

export function createKeys(prefix: string) {
  const run = (runId: string) => `${prefix}:{${runId}}`;
  const task = (t: TaskRef) => `${prefix}:{${t.runId}:${t.stage}:${t.partition}}`;
  return {
    prefix,
    /** BullMQ's own key prefix for the control-plane queues; one hash tag keeps each queue in one cluster slot. */
    bullPrefix: `${prefix}:{bull}`,
    runMeta: (runId: string) => `${run(runId)}:meta`,
    runDone: (runId: string) => `${run(runId)}:done`,
    runTail: (runId: string, nodeId: string) => `${run(runId)}:tail:${nodeId}`,
    /** The run's timeline (run-events.ts): a capped stream written by the transitions and the engine. */
    runEvents: (runId: string) => `${run(runId)}:events`,
    /** The workers' log lines about the run (the engine's run-log-sink.ts): a capped stream. */
    runLogs: (runId: string) => `${run(runId)}:logs`,
    /** One second's node figures of a run (node-figures.ts); expires by itself, so runKeys does not list it. */
    runFigures: (runId: string, sec: number) => `${run(runId)}:fig:${sec}`,
    taskState: (t: TaskRef) => `${task(t)}:state`,
    taskDeadLetters: (t: TaskRef) => `${task(t)}:dlq`,
    /** How many of the partition's dead letters a user discarded (dead-letter-actions in the API): a counter. */
    taskDiscarded: (t: TaskRef) => `${task(t)}:dlq-discarded`,
    /** Dead letters sent back for another try, read by the same partition. */
    taskReplay: (t: TaskRef) => `${task(t)}:replay`,
    /** An operator's state store in one partition. */
    taskStore: (t: TaskRef, nodeId: string, name: string) => `${task(t)}:s:${nodeId}:${name}`,
    /** Records a producer partition `t` sends through shuffle `shuffle` to partition `to` of the next stage. */
    shuffleStream: (t: TaskRef, shuffle: number, to: number) => `${task(t)}:x:${shuffle}:${to}`,
    // The fleet's registry and each worker's description share a hash tag: one heartbeat writes both atomically.
    workers: `${prefix}:{workers}`,
    worker: (workerId: string) => `${prefix}:{workers}:${workerId}`,
  };
}

export type Keys = ReturnType<typeof createKeys>;
