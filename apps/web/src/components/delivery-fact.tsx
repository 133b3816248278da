"use client";

import type { DeliveryPlan } from "@sluice/pipeline/plan";

// The delivery guarantee a pipeline really gets, as its plan says (`sluice explain` prints the same): the effective
// guarantee, the requested one when it is stronger, and each node that lowers it and why. The editor shows it for
// the draft, the run page for the run's version (runs/use-delivery-plan.ts works it out there).

const CONSEQUENCE: Record<DeliveryPlan["reasons"][number]["kind"], string> = {
  source: "after a failure it reads some records again",
  sink: "a batch retried after a failure can write its records twice",
};

export function DeliveryFact({
  plan,
  onSelectNode,
}: {
  plan: DeliveryPlan;
  /** Makes each node name a button that selects the node (in the editor). */
  onSelectNode?: (nodeId: string) => void;
}) {
  const lowered = plan.effective !== plan.requested;
  return (
    <div className="delivery-fact" data-testid="delivery-fact">
      <span data-testid="delivery-effective">{plan.effective}</span>
      {lowered ? <span className="muted"> (requested {plan.requested})</span> : null}
      {plan.reasons.length > 0 ? (
        <ul className="delivery-reasons" aria-label="Why delivery is lowered">
          {plan.reasons.map((r) => (
            <li key={`${r.kind}-${r.nodeId}`} data-testid={`delivery-reason-${r.nodeId}`}>
              {onSelectNode ? (
                <button type="button" className="link-button mono" onClick={() => onSelectNode(r.nodeId)}>
                  {r.nodeId}
                </button>
              ) : (
                <span className="mono">{r.nodeId}</span>
              )}{" "}
              <span className="muted">({r.nodeType})</span> {r.why}: {CONSEQUENCE[r.kind]}.
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
