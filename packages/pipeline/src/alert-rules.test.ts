import { describe, expect, it } from "vitest";
import { PipelineDefinition, type PipelineDefinitionInput } from "./definition";
import { parsePipelineText, writePipelineText } from "./file-format";
import { testCatalog } from "./test-catalog";
import { validate } from "./validate";

function pipeline(alerts: unknown[]): PipelineDefinitionInput {
  return {
    apiVersion: "sluice/v1",
    kind: "Pipeline",
    metadata: { name: "t" },
    spec: {
      nodes: [
        { id: "src", type: "source.numbers", config: { count: 5 } },
        { id: "out", type: "sink.collect", config: {} },
      ],
      edges: [{ from: "src", to: "out" }],
      alerts,
    } as PipelineDefinitionInput["spec"],
  };
}

const messages = (alerts: unknown[]) =>
  validate(pipeline(alerts), testCatalog)
    .issues.filter((i) => i.severity === "error")
    .map((i) => i.message);

describe("spec.alerts", () => {
  it("accepts every kind of rule with what it needs, and defaults the severity", () => {
    const r = validate(
      pipeline([
        { id: "quiet", when: "noData", duration: "1m", connection: "slack" },
        { id: "errors", when: "errorRate", node: "src", threshold: 5, window: "30s", severity: "critical" },
        { id: "lag", when: "lagAbove", node: "out", duration: "10m" },
        { id: "backlog", when: "backlogAbove", threshold: 10_000 },
        { id: "failed", when: "runFailed" },
        { id: "stalled", when: "runStalled", duration: "5m" },
      ]),
      testCatalog,
    );
    expect(r.issues.filter((i) => i.severity === "error")).toEqual([]);
    expect(r.definition?.spec.alerts?.[0]?.severity).toBe("warning");
    expect(r.definition?.spec.alerts?.[1]?.severity).toBe("critical");
  });

  it("says in the form's words what a rule lacks", () => {
    expect(messages([{ id: "quiet", when: "noData" }])).toEqual([
      expect.stringMatching(/^Alerts › item 1 › Duration: a noData rule needs a duration\.$/),
    ]);
    expect(messages([{ id: "e", when: "errorRate" }])).toEqual([
      expect.stringMatching(/Threshold: an errorRate rule needs the errors per second it fires above\.$/),
    ]);
  });

  it("refuses a node that is not in the pipeline, a duplicate id, a long window and a webhook URL", () => {
    expect(messages([{ id: "q", when: "noData", node: "nope", duration: "1m" }])).toEqual([
      expect.stringContaining('alert rule "q" watches node "nope", which is not in the pipeline'),
    ]);
    expect(
      messages([
        { id: "q", when: "runFailed" },
        { id: "q", when: "runFailed" },
      ]),
    ).toEqual([expect.stringContaining('another rule is already called "q"')]);
    expect(messages([{ id: "e", when: "errorRate", threshold: 1, window: "10m" }])).toEqual([
      expect.stringContaining("a window is at most 5 minutes"),
    ]);
    // URLs carry tokens, so they live in a webhook connection and never in the definition.
    expect(messages([{ id: "w", when: "runFailed", webhook: "https://hooks.example.com/T1/B2" }])).toEqual([
      "Alerts › item 1: “webhook” is not a known setting; remove it.",
    ]);
  });

  it("checks a rule's webhook connection against the workspace's connections, naming the rule", () => {
    const connections = { slack: "webhook", warehouse: "postgres" };
    const issuesOf = (connection: string) =>
      validate(pipeline([{ id: "failed", when: "runFailed", connection }]), testCatalog, { connections }).issues;
    expect(issuesOf("slack")).toEqual([]);
    expect(issuesOf("slak")).toEqual([
      expect.objectContaining({
        code: "unknown-connection",
        path: ["spec", "alerts", 0, "connection"],
        message: 'alert rule "failed": there is no connection named "slak"',
        suggestion: "slack",
      }),
    ]);
    expect(issuesOf("warehouse")).toEqual([
      expect.objectContaining({
        code: "connection-type",
        message:
          'alert rule "failed": connection "warehouse" is a postgres connection; a rule needs a webhook connection',
      }),
    ]);
  });

  it("exports and imports with the pipeline, and a pipeline without rules gains no alerts key", () => {
    const def = PipelineDefinition.parse(pipeline([{ id: "quiet", when: "noData", duration: "1m" }]));
    const back = parsePipelineText(writePipelineText(def, "yaml"), "yaml");
    expect(back.ok && PipelineDefinition.parse(back.value)).toEqual(def);
    const { alerts: _, ...spec } = pipeline([]).spec;
    const bare = PipelineDefinition.parse({ ...pipeline([]), spec });
    expect("alerts" in bare.spec).toBe(false);
  });
});
