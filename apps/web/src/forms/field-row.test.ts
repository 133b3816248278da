import { catalog } from "@sluice/nodes/catalog";
import { configJsonSchema } from "@sluice/pipeline/config-schema";
import { createElement, type ReactNode } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { GroupBody } from "./controls/group-body";
import { FieldRow } from "./field-row";
import { configForm } from "./schema";
import { type FormScope, FormScopeContext } from "./scope";
import { fits, pathKey } from "./values";

// Every built-in node type's documented examples, shown by the generated form: each field's value fits its
// structured controls (no field falls back to JSON), and the rows render with an id per nested path.

const scope = (issues: Record<string, string[]> = {}): FormScope => ({
  idFor: (path) => `cfg-${pathKey(path)}`,
  issuesAt: (path) => issues[pathKey(path)] ?? [],
  renderGroup: (props): ReactNode => createElement(GroupBody, props),
  host: {},
  storedSecrets: {},
});

function render(type: string, config: Record<string, unknown>, issues?: Record<string, string[]>): string {
  const def = catalog.get(type);
  if (!def) throw new Error(type);
  const form = configForm(configJsonSchema(def));
  const rows = form.fields.map((f) =>
    createElement(FieldRow, { key: f.name, spec: f, path: [f.name], value: config[f.name], onChange: () => {} }),
  );
  return renderToStaticMarkup(createElement(FormScopeContext.Provider, { value: scope(issues) }, rows));
}

describe("built-in node types' examples in the structured form", () => {
  const cases = catalog
    .list()
    .flatMap((def) => def.examples.map((ex) => [def.type, ex.title, ex.config as Record<string, unknown>] as const));

  it.each(cases)("%s: %s", (type, _title, config) => {
    const def = catalog.get(type);
    if (!def) throw new Error(type);
    const form = configForm(configJsonSchema(def));
    if (form.whole) return;
    for (const f of form.fields) expect(fits(f.control, config[f.name]), `${type}.${f.name}`).toBe(true);
    expect(() => render(type, config)).not.toThrow();
  });
});

describe("nested rows", () => {
  const config = {
    key: ["country", { name: "domain", expr: "lower(host)" }],
    window: { hop: { size: "10s", every: "2s" } },
    aggregates: { hits: "count(*)", revenue: "sum(amount)" },
  };

  it("give every nested control an id from its full path", () => {
    const html = render("transform.window", config);
    for (const id of [
      "key[0]",
      "key[1].name",
      "key[1].expr",
      "window.hop.size",
      "window.hop.every",
      "aggregates.revenue",
    ])
      expect(html).toContain(`id="cfg-${id}"`);
  });

  it("show an issue next to the nested field it is about", () => {
    const html = render("transform.window", config, { "aggregates.revenue": ["Unknown field “amount”."] });
    expect(html).toContain('aria-describedby="cfg-aggregates.revenue-issues" aria-invalid="true"');
    expect(html).toContain('id="cfg-aggregates.revenue-issues"');
    expect(html).toContain("Unknown field “amount”.");
  });

  it("name list buttons after the item they act on", () => {
    const html = render("transform.window", config);
    expect(html).toContain('aria-label="Remove group by item 2 (domain)"');
    expect(html).toContain('aria-label="Move group by item 1 (country) down"');
    expect(html).toContain('aria-label="Remove aggregate 2 (revenue)"');
    expect(html).toContain('aria-label="Edit Aggregates as JSON"');
  });
});

describe("expression modes from the node declarations", () => {
  it("makes a filter's condition a predicate and a window's aggregates aggregate expressions", () => {
    const modeOf = (type: string, field: string) => {
      const def = catalog.get(type);
      if (!def) throw new Error(type);
      const control = configForm(configJsonSchema(def)).fields.find((f) => f.name === field)?.control;
      const inner = control?.kind === "record" ? control.value : control;
      return inner?.kind === "expression" ? inner.mode : inner?.kind;
    };
    expect(modeOf("transform.filter", "where")).toBe("predicate");
    expect(modeOf("transform.window", "aggregates")).toBe("aggregate");
    expect(modeOf("transform.map", "set")).toBe("expression");
  });
});

describe("making a field a parameter", () => {
  const withHost = (host: FormScope["host"]) => (type: string, config: Record<string, unknown>) => {
    const def = catalog.get(type);
    if (!def) throw new Error(type);
    const rows = configForm(configJsonSchema(def)).fields.map((f) =>
      createElement(FieldRow, { key: f.name, spec: f, path: [f.name], value: config[f.name], onChange: () => {} }),
    );
    return renderToStaticMarkup(createElement(FormScopeContext.Provider, { value: { ...scope(), host } }, rows));
  };
  const button = 'aria-label="Make a parameter of this field"';

  it("is offered on the fields the host allows, and only when the host offers it at all", () => {
    const offering = withHost({
      parameterize: () => "{{x}}",
      canParameterize: (spec, value) => spec.name === "where" && value !== "{{keep}}",
    });
    expect(offering("transform.filter", { where: "status = 200" })).toContain(button);
    expect(offering("transform.filter", { where: "{{keep}}" })).not.toContain(button);
    expect(withHost({})("transform.filter", { where: "status = 200" })).not.toContain(button);
  });
});
