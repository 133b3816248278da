import type { NodeCounters, RunSnapshot } from "@sluice/pipeline/control/protocol";
import type { DeliveryPlan } from "@sluice/pipeline/plan";
import { DeliveryFact } from "@/components/delivery-fact";
import { formatAbsolute, formatIso } from "@/lib/format";
import { formatCount, formatDuration, formatRetry } from "./run-format";

// What a run shows about itself: progress of bounded sources, the watermark, the delivery guarantee it really has,
// its tasks and timing; and per-node counters.

export function RunProgress({ progress }: { progress: RunSnapshot["progress"] }) {
  if (!progress || progress.total <= 0) return null;
  const share = Math.min(1, progress.done / progress.total);
  return (
    <div className="run-progress">
      <div
        className="progress-bar"
        role="progressbar"
        aria-label="Source progress"
        aria-valuemin={0}
        aria-valuemax={progress.total}
        aria-valuenow={progress.done}
        aria-valuetext={`${formatCount(progress.done)} of ${formatCount(progress.total)} records read`}
      >
        <span className="progress-fill" style={{ width: `${(share * 100).toFixed(1)}%` }} />
      </div>
      <span className="progress-text">
        {Math.floor(share * 100)}% · {formatCount(progress.done)} of {formatCount(progress.total)} read
      </span>
    </div>
  );
}

/** Partitions of a running run that wait to try again after an error: why, how often, and when next. */
export function RunRetries({ retrying, now }: { retrying: RunSnapshot["retrying"] | undefined; now: number }) {
  if (!retrying || retrying.length === 0) return null;
  const shown = retrying.slice(0, 5);
  return (
    <div className="run-retry-box" role="status" data-testid="run-retrying">
      <h2 className="run-error-title">
        {retrying.length === 1 ? "A partition is retrying" : `${retrying.length} partitions are retrying`}
      </h2>
      <ul className="run-retry-list">
        {shown.map((r) => (
          <li key={`${r.stage}.${r.partition}`}>
            <span className="muted">
              Stage {r.stage}, partition {r.partition}:
            </span>{" "}
            {formatRetry(r, now)}
          </li>
        ))}
      </ul>
      {retrying.length > shown.length ? <p className="muted">and {retrying.length - shown.length} more</p> : null}
    </div>
  );
}

export interface RunTiming {
  createdAt: number | null;
  startedAt: number | null;
  finishedAt: number | null;
}

export function RunFacts({
  snapshot,
  delivery,
  plan,
  timing,
  now,
}: {
  snapshot: RunSnapshot | null;
  delivery: string | null;
  /** The plan of the run's version: with it the fact also says which nodes lower the guarantee. */
  plan?: DeliveryPlan | null;
  timing: RunTiming;
  now: number;
}) {
  const started = timing.startedAt;
  const ran = started !== null ? (timing.finishedAt ?? now) - started : null;
  const effective = snapshot?.delivery ?? delivery;
  return (
    <dl className="run-facts">
      <div>
        <dt>Delivery</dt>
        <dd data-testid="run-delivery">
          {/* The engine's own word wins; the plan adds its reasons when it agrees (parameter values can differ). */}
          {plan && (effective === null || effective === plan.effective) ? (
            <DeliveryFact plan={plan} />
          ) : (
            (effective ?? "—")
          )}
        </dd>
      </div>
      <div>
        <dt>Watermark</dt>
        <dd data-testid="run-watermark">
          {snapshot?.watermark !== null && snapshot?.watermark !== undefined ? (
            <time dateTime={formatIso(snapshot.watermark)} title={formatIso(snapshot.watermark)}>
              {formatAbsolute(snapshot.watermark)}
            </time>
          ) : (
            "—"
          )}
        </dd>
      </div>
      {snapshot ? (
        <div>
          <dt>Tasks</dt>
          <dd>
            {snapshot.tasks.done} of {snapshot.tasks.total} done
          </dd>
        </div>
      ) : null}
      <div>
        <dt>{timing.finishedAt !== null ? "Ran for" : "Running for"}</dt>
        <dd>{ran !== null ? formatDuration(ran) : "not started"}</dd>
      </div>
    </dl>
  );
}

const NOTHING_COUNTED: NodeCounters = { in: 0, out: 0, errors: 0 };

export function CounterTable({
  counters,
  order,
  caption,
}: {
  counters: Record<string, NodeCounters>;
  /** Every node of the run in pipeline order (see pipelineOrder), each shown even with nothing counted; others follow. */
  order?: readonly string[];
  caption: string;
}) {
  const ids = [...new Set([...(order ?? []), ...Object.keys(counters).sort()])];
  if (ids.length === 0) return <p className="muted">No records have been counted yet.</p>;
  return (
    <table className="counter-table">
      <caption className="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Node</th>
          <th scope="col">In</th>
          <th scope="col">Out</th>
          <th scope="col">Errors</th>
        </tr>
      </thead>
      <tbody>
        {ids.map((id) => {
          const c = counters[id] ?? NOTHING_COUNTED;
          return (
            <tr key={id} data-testid={`counters-${id}`}>
              <th scope="row" className="mono">
                {id}
              </th>
              <td>{formatCount(c.in)}</td>
              <td>{formatCount(c.out)}</td>
              <td className={c.errors > 0 ? "cell-bad" : undefined}>{formatCount(c.errors)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
