import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { parseNumber } from "./controls/number";
import { parseScalar } from "./controls/scalar";
import { configForm } from "./schema";
import { type FormIssue, SchemaForm } from "./schema-form";

// The engine over a connection type's schema (as `connections.types` sends it): how its fields are read, how a
// write-only secret shows, and where issues from the server land.

const schema = {
  type: "object",
  properties: {
    host: { type: "string", label: "Host", placeholder: "db.internal" },
    port: { type: "integer", default: 5432, label: "Port" },
    password: { type: "string", label: "Password", secret: true },
    sslmode: { type: "string", enum: ["disable", "require"], default: "disable", widget: "select" },
    ca: { type: "string", widget: "textarea", advanced: true, label: "CA certificate" },
    verify: { type: "boolean", default: true },
    ratio: { type: "number" },
  },
  required: ["host"],
};

function render(props: {
  value?: Record<string, unknown>;
  issues?: FormIssue[];
  storedSecrets?: Record<string, boolean>;
}): string {
  return renderToStaticMarkup(
    createElement(SchemaForm, {
      schema,
      value: props.value ?? {},
      issues: props.issues ?? [],
      storedSecrets: props.storedSecrets ?? {},
      onChange: () => {},
      onReplace: () => {},
    }),
  );
}

describe("a connection type's schema", () => {
  it("reads labels, kinds and hints", () => {
    const form = configForm(schema);
    expect(form.whole).toBe(false);
    expect(form.fields.map((f) => [f.name, f.control.kind, f.required, f.control.advanced])).toEqual([
      ["host", "text", true, false],
      ["port", "number", false, false],
      ["password", "text", false, false],
      ["sslmode", "enum", false, false],
      ["ca", "text", false, true],
      ["verify", "boolean", false, false],
      ["ratio", "number", false, false],
    ]);
    const [host, port, , sslmode] = form.fields;
    expect(host?.control.placeholder).toBe("db.internal");
    expect(port?.control.placeholder).toBe("5432");
    expect(sslmode?.control.label).toBe("sslmode");
    expect(form.fields.filter((f) => f.control.kind === "text" && f.control.secret).map((f) => f.name)).toEqual([
      "password",
    ]);
  });

  it("shows a stored secret as set, never its value, with a way to remove it", () => {
    const html = render({ storedSecrets: { password: true }, value: { host: "h" } });
    expect(html).toContain('<span class="secret-state secret-set">set</span>');
    expect(html).toMatch(/<input [^>]*type="password"[^>]*value=""/);
    expect(html).toContain('placeholder="Leave empty to keep the stored value"');
    expect(html).toContain("Remove the stored password");
  });

  it("marks a secret being removed and one never stored", () => {
    const removing = render({ storedSecrets: { password: true }, value: { password: null } });
    expect(removing).toContain("will be removed");
    expect(removing).toMatch(/<input [^>]*type="password"[^>]*disabled=""/);
    const unset = render({});
    expect(unset).toContain('<span class="secret-state secret-unset">not set</span>');
    expect(unset).not.toContain("Remove the stored password");
  });

  it("puts each issue under its field, opens Advanced for one there, and lists the rest", () => {
    const html = render({
      issues: [
        { path: ["port"], message: "Port must be at most 65535." },
        { path: ["ca"], message: "The CA certificate is not PEM text." },
        { path: ["nonsense"], message: "Unknown field “nonsense”." },
      ],
    });
    expect(html).toMatch(/aria-invalid="true" aria-describedby="[^"]*-port-issues"/);
    expect(html).toMatch(/aria-describedby="[^"]*-ca-issues" aria-invalid="true"/);
    expect(html).toMatch(/<details class="advanced" open="">/);
    expect(html).toMatch(/aria-label="Other problems with these settings"><li class="issue issue-error">Unknown field/);
    expect(html.indexOf("Port must be at most 65535.")).toBeLessThan(html.indexOf("Advanced"));
  });

  it("renders a select whose blank entry names the default", () => {
    expect(render({})).toContain('<option value="" selected="">Default (disable)</option>');
  });
});

describe("number text", () => {
  it("accepts numbers in range and says what is wrong with the rest", () => {
    const port = parseNumber(false, true, 1, 65535);
    expect(port("6543")).toEqual({ ok: true, value: 6543 });
    expect(port(" ")).toEqual({ ok: true, value: undefined });
    expect(port("5.5")).toEqual({ ok: false, error: "Enter a whole number." });
    expect(port("0")).toEqual({ ok: false, error: "Enter 1 or more." });
    expect(port("70000")).toEqual({ ok: false, error: "Enter 65535 or less." });
    expect(parseNumber(true, false)("")).toEqual({ ok: false, error: "Enter a number." });
    expect(parseNumber(false, false)("x")).toEqual({ ok: false, error: "Enter a number." });
  });

  it("reads a mixed scalar as the first type it fits", () => {
    const either = parseScalar(false, ["string", "number"]);
    expect(either("42")).toEqual({ ok: true, value: 42 });
    expect(either("abc")).toEqual({ ok: true, value: "abc" });
    expect(parseScalar(false, ["integer", "boolean"])("x")).toEqual({
      ok: false,
      error: "Enter a whole number or a boolean.",
    });
  });
});
