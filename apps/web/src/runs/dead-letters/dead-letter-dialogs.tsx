"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { useId, useState } from "react";
import type { RouterOutputs } from "@/components/api-types";
import { Dialog } from "@/components/dialog";
import { errorMessage } from "@/lib/errors";
import { formatAbsolute, formatRelative } from "@/lib/format";
import { formatCount } from "@/runs/run-format";
import { useTRPC } from "@/trpc/react";

// The workbench's dialogs: inspect one dead letter (and fix its record by hand), fix many with an expression after a
// preview, and discard with a reason. Each tells the card what it did, in a sentence, through `onDone`.

export type DeadLetter = RouterOutputs["runs"]["deadLetters"]["letters"][number];
/** Which letters an action takes: ids, a group, or with neither all of them. */
export type DeadLetterTarget = { ids?: string[]; group?: DeadLetterGroupRef };
export type DeadLetterGroupRef = { nodeId: string; reason: string };

/** What the card tells the dialogs: the run, the letters acted on, and why replaying cannot work (if it cannot). */
interface ActionContext {
  runId: string;
  target: DeadLetterTarget;
  /** "the 3 selected dead letters", "the 40 dead letters of this group", "all 605 dead letters". */
  what: string;
  replayRefusal: string | null;
  onDone: (outcome: string) => void;
  onClose: () => void;
}

function plural(n: number, word = "dead letter"): string {
  return `${formatCount(n)} ${word}${n === 1 ? "" : "s"}`;
}

/** Where a JSON text is wrong, in a sentence; null when it is a record (an object). */
function recordProblem(text: string): string | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return `Not valid JSON: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return "A record is a JSON object ({ … }), not an array or a single value.";
  }
  return null;
}

export function InspectDialog({
  runId,
  letter,
  canEdit,
  editTitle,
  replayRefusal,
  onDone,
  onClose,
}: {
  runId: string;
  letter: DeadLetter | null;
  canEdit: boolean;
  editTitle: string | undefined;
  replayRefusal: string | null;
  onDone: (outcome: string) => void;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const id = useId();
  const [text, setText] = useState<string | null>(null);
  const fix = useMutation(
    trpc.runs.fixDeadLetter.mutationOptions({
      onSuccess: ({ replayed }) => {
        setText(null);
        onDone(
          replayed
            ? "The fixed record was sent back for processing; if it fails again it comes back here."
            : "The record was fixed and stays a dead letter, marked fixed, until it is replayed.",
        );
      },
    }),
  );
  const problem = text === null ? null : recordProblem(text);
  const close = () => {
    setText(null);
    fix.reset();
    onClose();
  };
  const save = (replay: boolean) => {
    if (!letter || text === null || problem) return;
    fix.mutate({ runId, id: letter.id, record: text, replay });
  };
  return (
    <Dialog open={letter !== null} onClose={close} title="Dead letter" size="wide" dismissible={!fix.isPending}>
      {letter ? (
        <div data-testid="dead-letter-inspector">
          <dl className="facts">
            <div>
              <dt>Node</dt>
              <dd className="mono">
                {letter.nodeId}
                {letter.port ? <span className="muted">.{letter.port}</span> : null}
              </dd>
            </div>
            <div>
              <dt>Failed</dt>
              <dd title={formatAbsolute(letter.at)}>{formatRelative(letter.at)}</dd>
            </div>
            <div>
              <dt>Where</dt>
              <dd>
                stage {letter.stage}, partition {letter.partition}
                {letter.sequence !== null ? `, batch ${letter.sequence}` : ""}
              </dd>
            </div>
            {letter.fixed ? (
              <div>
                <dt>Fixed</dt>
                <dd>
                  by {letter.fixed.by} {formatRelative(letter.fixed.at)}:{" "}
                  <span className="mono">{letter.fixed.how}</span>
                </dd>
              </div>
            ) : null}
          </dl>
          <p className="form-error">{letter.error}</p>
          {text === null ? (
            <pre className="record-json" data-testid="dead-letter-record">
              {JSON.stringify(letter.record, null, 2)}
            </pre>
          ) : (
            <div className="field">
              <label className="field-label" htmlFor={`${id}-record`}>
                Record (JSON)
              </label>
              <textarea
                id={`${id}-record`}
                className="input mono"
                rows={14}
                spellCheck={false}
                value={text}
                aria-invalid={problem ? true : undefined}
                aria-describedby={problem ? `${id}-problem` : undefined}
                onChange={(e) => setText(e.target.value)}
              />
              {problem ? (
                <p id={`${id}-problem`} className="field-error" role="alert">
                  {problem}
                </p>
              ) : null}
            </div>
          )}
          {fix.error ? (
            <p className="form-error" role="alert">
              Could not fix: {errorMessage(fix.error)}
            </p>
          ) : null}
          <div className="dialog-actions">
            <button type="button" className="button" onClick={close} disabled={fix.isPending}>
              Close
            </button>
            {text === null ? (
              <button
                type="button"
                className="button"
                disabled={!canEdit}
                title={editTitle}
                onClick={() => setText(JSON.stringify(letter.record, null, 2))}
              >
                Edit record
              </button>
            ) : (
              <>
                <button
                  type="button"
                  className="button"
                  disabled={problem !== null || fix.isPending}
                  onClick={() => save(false)}
                >
                  Save
                </button>
                <button
                  type="button"
                  className="button button-primary"
                  disabled={problem !== null || fix.isPending || replayRefusal !== null}
                  title={replayRefusal ?? undefined}
                  onClick={() => save(true)}
                >
                  {fix.isPending ? "Saving…" : "Save and replay"}
                </button>
              </>
            )}
          </div>
        </div>
      ) : null}
    </Dialog>
  );
}

export function FixDialog({ open, ...ctx }: ActionContext & { open: boolean }) {
  const trpc = useTRPC();
  const id = useId();
  const [expression, setExpression] = useState("");
  const [previewed, setPreviewed] = useState<string | null>(null);
  const preview = useQuery(
    trpc.runs.previewDeadLetterFix.queryOptions(
      { runId: ctx.runId, ...ctx.target, expression: previewed ?? "" },
      { enabled: open && previewed !== null, retry: false, staleTime: Number.POSITIVE_INFINITY },
    ),
  );
  const apply = useMutation(
    trpc.runs.fixDeadLetters.mutationOptions({
      onSuccess: (r) => {
        const parts = [
          r.replayed
            ? `${plural(r.fixed)} fixed and sent back for processing.`
            : `${plural(r.fixed)} fixed; they stay here, marked fixed, until replayed.`,
        ];
        if (r.failed > 0) parts.push(`${plural(r.failed)} could not be fixed and are unchanged (${r.firstError}).`);
        if (r.remaining > 0) parts.push(`${plural(r.remaining)} more are left: apply the fix again for them.`);
        close();
        ctx.onDone(parts.join(" "));
      },
    }),
  );
  const close = () => {
    setExpression("");
    setPreviewed(null);
    apply.reset();
    ctx.onClose();
  };
  const current = previewed !== null && previewed === expression;
  return (
    <Dialog
      open={open}
      onClose={close}
      title="Fix with an expression"
      size="wide"
      dismissible={!apply.isPending}
      description={
        <>
          Applies to {ctx.what}. One assignment a line, in the pipeline's expression language, e.g.{" "}
          <code>price = CAST(replace(price, &apos;,&apos;, &apos;.&apos;) AS double)</code>. Each line sees the fields
          assigned above it.
        </>
      }
    >
      <div className="field">
        <label className="field-label" htmlFor={`${id}-expr`}>
          Assignments
        </label>
        <textarea
          id={`${id}-expr`}
          className="input mono"
          rows={4}
          spellCheck={false}
          value={expression}
          placeholder="price = CAST(price AS double)"
          onChange={(e) => setExpression(e.target.value)}
        />
      </div>
      {preview.isError && current ? (
        <p className="form-error" role="alert">
          {errorMessage(preview.error)}
        </p>
      ) : null}
      {preview.data && current ? (
        <div className="table-scroll" data-testid="fix-preview">
          <table className="table dead-letter-table">
            <caption className="visually-hidden">What the fix makes of the first dead letters</caption>
            <thead>
              <tr>
                <th scope="col">Before</th>
                <th scope="col">After</th>
              </tr>
            </thead>
            <tbody>
              {preview.data.rows.length === 0 ? (
                <tr>
                  <td colSpan={2} className="muted">
                    No dead letters to preview.
                  </td>
                </tr>
              ) : null}
              {preview.data.rows.map((row) => (
                <tr key={row.id}>
                  <td>
                    <pre className="record-json record-json-small">{JSON.stringify(row.before, null, 2)}</pre>
                  </td>
                  <td>
                    {row.error ? (
                      <p className="form-error">{row.error}</p>
                    ) : (
                      <pre className="record-json record-json-small">{JSON.stringify(row.after, null, 2)}</pre>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {apply.error ? (
        <p className="form-error" role="alert">
          Could not fix: {errorMessage(apply.error)}
        </p>
      ) : null}
      <div className="dialog-actions">
        <button type="button" className="button" onClick={close} disabled={apply.isPending}>
          Cancel
        </button>
        <button
          type="button"
          className="button"
          disabled={expression.trim() === "" || preview.isFetching}
          onClick={() => {
            setPreviewed(expression);
            if (current) void preview.refetch();
          }}
        >
          {preview.isFetching ? "Previewing…" : "Preview"}
        </button>
        <button
          type="button"
          className="button"
          disabled={!current || !preview.isSuccess || apply.isPending}
          title={current && preview.isSuccess ? undefined : "Preview the fix first"}
          onClick={() => apply.mutate({ runId: ctx.runId, ...ctx.target, expression, replay: false })}
        >
          Apply
        </button>
        <button
          type="button"
          className="button button-primary"
          disabled={!current || !preview.isSuccess || apply.isPending || ctx.replayRefusal !== null}
          title={ctx.replayRefusal ?? (current && preview.isSuccess ? undefined : "Preview the fix first")}
          onClick={() => apply.mutate({ runId: ctx.runId, ...ctx.target, expression, replay: true })}
        >
          {apply.isPending ? "Fixing…" : "Apply and replay"}
        </button>
      </div>
    </Dialog>
  );
}

export function DiscardDialog({ open, ...ctx }: ActionContext & { open: boolean }) {
  const trpc = useTRPC();
  const id = useId();
  const [reason, setReason] = useState("");
  const discard = useMutation(
    trpc.runs.discardDeadLetters.mutationOptions({
      onSuccess: ({ discarded }) => {
        close();
        ctx.onDone(`${plural(discarded)} discarded. The reason is on the run's timeline.`);
      },
    }),
  );
  const close = () => {
    setReason("");
    discard.reset();
    ctx.onClose();
  };
  const tooShort = reason.trim().length < 3;
  return (
    <Dialog
      open={open}
      onClose={close}
      title="Discard dead letters"
      dismissible={!discard.isPending}
      description={`Removes ${ctx.what} for good: they are not processed again. The run counts them as discarded.`}
    >
      <div className="field">
        <label className="field-label" htmlFor={`${id}-reason`}>
          Reason (kept on the run's timeline)
        </label>
        <textarea
          id={`${id}-reason`}
          className="input"
          rows={2}
          value={reason}
          maxLength={500}
          placeholder="Test orders from the staging shop"
          onChange={(e) => setReason(e.target.value)}
        />
      </div>
      {discard.error ? (
        <p className="form-error" role="alert">
          Could not discard: {errorMessage(discard.error)}
        </p>
      ) : null}
      <div className="dialog-actions">
        <button type="button" className="button" onClick={close} disabled={discard.isPending}>
          Cancel
        </button>
        <button
          type="button"
          className="button button-danger"
          disabled={tooShort || discard.isPending}
          title={tooShort ? "Say why (at least 3 characters)" : undefined}
          onClick={() => discard.mutate({ runId: ctx.runId, ...ctx.target, reason })}
        >
          {discard.isPending ? "Discarding…" : "Discard"}
        </button>
      </div>
    </Dialog>
  );
}

export function ReplayDialog({ open, ...ctx }: ActionContext & { open: boolean }) {
  const trpc = useTRPC();
  const replay = useMutation(
    trpc.runs.replayDeadLetters.mutationOptions({
      onSuccess: ({ replayed }) => {
        ctx.onClose();
        ctx.onDone(
          `${plural(replayed)} sent back for processing. The run processes them now; any that fail again come back here.`,
        );
      },
    }),
  );
  return (
    <Dialog
      open={open}
      onClose={ctx.onClose}
      title="Replay dead letters?"
      description={`${ctx.what[0]?.toUpperCase()}${ctx.what.slice(1)} go back to the node where each failed, to be processed again, each exactly once.`}
      dismissible={!replay.isPending}
    >
      {replay.error ? (
        <p className="form-error" role="alert">
          Could not replay: {errorMessage(replay.error)}
        </p>
      ) : null}
      <div className="dialog-actions">
        <button type="button" className="button" onClick={ctx.onClose} disabled={replay.isPending}>
          Cancel
        </button>
        <button
          type="button"
          className="button button-primary"
          disabled={replay.isPending}
          onClick={() => replay.mutate({ runId: ctx.runId, ...ctx.target })}
        >
          {replay.isPending ? "Replaying…" : "Replay"}
        </button>
      </div>
    </Dialog>
  );
}
