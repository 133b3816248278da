import { describe, expect, it } from "vitest";
import { emptyDefinition, type PipelineDefinition } from "./definition";
import { deliveryReasonText, planDelivery } from "./plan";
import { testCatalog } from "./test-catalog";
import { validate } from "./validate";

function draft(nodes: PipelineDefinition["spec"]["nodes"], edges: PipelineDefinition["spec"]["edges"]) {
  const def = emptyDefinition("draft");
  def.spec.nodes.push(...nodes);
  def.spec.edges.push(...edges);
  return def;
}

const delivery = (def: PipelineDefinition) => planDelivery(def, testCatalog, validate(def, testCatalog).configs);

describe("planDelivery", () => {
  it("names the node that lowers exactly-once and why", () => {
    const def = draft(
      [
        { id: "src", type: "source.numbers", config: { count: 5 } },
        { id: "out", type: "sink.collect", config: { idempotent: false } },
      ],
      [{ from: "src", to: "out" }],
    );
    const plan = delivery(def);
    expect(plan).toMatchObject({ requested: "exactly-once", effective: "at-least-once" });
    expect(plan.reasons).toEqual([
      { nodeId: "out", nodeType: "sink.collect", kind: "sink", why: "is neither idempotent nor transactional" },
    ]);
    expect(deliveryReasonText(plan.reasons[0]!)).toBe(
      "sink out (sink.collect) is neither idempotent nor transactional",
    );
  });

  it("plans a draft that would not plan yet: unknown types left out, a cycle in definition order", () => {
    const def = draft(
      [
        { id: "src", type: "source.numbers", config: { count: 5 } },
        { id: "a", type: "transform.split", config: {} },
        { id: "b", type: "transform.split", config: {} },
        { id: "odd", type: "transform.nope", config: {} },
        { id: "out", type: "sink.collect", config: { idempotent: false } },
      ],
      [
        { from: "a", to: "b" },
        { from: "b", to: "a" },
        { from: "b", to: "out" },
      ],
    );
    const plan = delivery(def);
    expect(plan.effective).toBe("at-least-once");
    expect(plan.reasons.map((r) => r.nodeId)).toEqual(["out"]);
  });

  it("gives what was asked when every node can, and no reasons for at-least-once asked", () => {
    const fine = draft(
      [
        { id: "src", type: "source.numbers", config: { count: 5 } },
        { id: "out", type: "sink.collect", config: { idempotent: true } },
      ],
      [{ from: "src", to: "out" }],
    );
    expect(delivery(fine)).toEqual({ requested: "exactly-once", effective: "exactly-once", reasons: [] });
    const lax = draft(
      [
        { id: "src", type: "source.numbers", config: { count: 5 } },
        { id: "out", type: "sink.collect", config: { idempotent: false } },
      ],
      [{ from: "src", to: "out" }],
    );
    lax.spec.settings.delivery = "at-least-once";
    expect(delivery(lax)).toEqual({ requested: "at-least-once", effective: "at-least-once", reasons: [] });
  });

  it("leaves out a node whose config does not parse yet instead of asking its capability", () => {
    const def = draft(
      [
        { id: "src", type: "source.numbers", config: { count: 5 } },
        { id: "out", type: "sink.collect", config: { idempotent: "sometimes" } },
      ],
      [{ from: "src", to: "out" }],
    );
    const configs = validate(def, testCatalog).configs;
    expect(configs.out).toBeUndefined();
    expect(planDelivery(def, testCatalog, configs)).toEqual({
      requested: "exactly-once",
      effective: "exactly-once",
      reasons: [],
    });
  });
});
