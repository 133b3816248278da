import { portsOf } from "@sluice/pipeline/node-definition";
import { field, type RecordSchema, t } from "@sluice/pipeline/record-schema";
import { describe, expect, it } from "vitest";
import { configProblems, inferNode } from "../testing/infer-harness";
import { OperatorRun, testContext } from "../testing/operator-harness";
import { type RouteConfig, routeDef } from "./route.def";
import { routeRuntime } from "./route.run";

const orders: RecordSchema = {
  fields: [field("id", t.int), field("amount", t.int, true), field("country", t.string)],
  open: false,
};

const run = (config: unknown) =>
  new OperatorRun(routeRuntime.create(testContext<RouteConfig>(routeDef, config, { inputs: { in: orders } })));

const bySize = {
  routes: [
    { name: "large", where: "amount >= 1000" },
    { name: "medium", where: "amount >= 100" },
  ],
};
const records = [
  { id: 1, amount: 5000, country: "DE" },
  { id: 2, amount: 500, country: "FR" },
  { id: 3, amount: 5, country: "DE" },
  { id: 4, amount: null, country: "DE" },
];
const ids = (rs: readonly Record<string, unknown>[]) => rs.map((r) => r.id);

describe("transform.route", () => {
  it("sends each record to the first route that holds, NULL conditions to unmatched", () => {
    const op = run(bySize).push(records);
    expect(ids(op.take("large"))).toEqual([1]);
    expect(ids(op.take("medium"))).toEqual([2]);
    expect(ids(op.take("unmatched"))).toEqual([3, 4]);
  });

  it("sends each record to every route that holds in mode all", () => {
    const op = run({ ...bySize, mode: "all" }).push(records);
    expect(ids(op.take("large"))).toEqual([1]);
    expect(ids(op.take("medium"))).toEqual([1, 2]);
    expect(ids(op.take("unmatched"))).toEqual([3, 4]);
  });

  it("passes the records themselves on, unchanged", () => {
    const record = Object.freeze({ id: 9, amount: 2000, country: "US" });
    const op = run(bySize).push([record]);
    expect(op.take("large")[0]).toBe(record);
  });

  it("routes a record nowhere when a condition fails to evaluate", () => {
    const op = run({
      mode: "all",
      routes: [
        { name: "a", where: "amount > 0" },
        { name: "b", where: "100 / amount > 1" },
      ],
    });
    expect(() => op.push([{ id: 1, amount: 0, country: "DE" }])).toThrow(/division by zero/i);
    expect(op.emitted).toEqual({});
  });

  it("has one output per route plus unmatched", () => {
    const config = routeDef.config.parse(bySize);
    expect(portsOf(routeDef, config).outputs.map((p) => p.name)).toEqual(["large", "medium", "unmatched"]);
    expect(portsOf(routeDef, undefined).outputs.map((p) => p.name)).toEqual(["unmatched"]);
    const { outputs, errors } = inferNode(routeDef, bySize, { in: orders });
    expect(errors).toEqual([]);
    expect(Object.keys(outputs).sort()).toEqual(["large", "medium", "unmatched"]);
    expect(outputs.large).toBe(orders);
  });

  it("reports a bad condition at its route", () => {
    const { errors } = inferNode(
      routeDef,
      {
        routes: [
          { name: "a", where: "amount > 1" },
          { name: "b", where: "amont > 1" },
        ],
      },
      {
        in: orders,
      },
    );
    expect(errors[0]).toMatchObject({ path: ["routes", 1, "where"], suggestion: "amount" });
    expect(inferNode(routeDef, { routes: [{ name: "a", where: "country" }] }, { in: orders }).errors[0]?.path).toEqual([
      "routes",
      0,
      "where",
    ]);
  });

  it("refuses route names that cannot be ports", () => {
    expect(configProblems(routeDef, { routes: [] })[0]?.path).toEqual(["routes"]);
    expect(configProblems(routeDef, { routes: [{ name: "Big", where: "true" }] })[0]?.path).toEqual([
      "routes",
      0,
      "name",
    ]);
    expect(configProblems(routeDef, { routes: [{ name: "unmatched", where: "true" }] })[0]?.path).toEqual([
      "routes",
      0,
      "name",
    ]);
    expect(
      configProblems(routeDef, {
        routes: [
          { name: "a", where: "true" },
          { name: "a", where: "false" },
        ],
      })[0]?.path,
    ).toEqual(["routes", 1, "name"]);
  });
});
