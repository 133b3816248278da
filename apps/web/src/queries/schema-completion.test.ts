import { describe, expect, it } from "vitest";
import { completionSchema, filterTables, nameParts, tableReference } from "./schema-completion";

describe("nameParts", () => {
  it("splits a qualified name at dots outside quotes", () => {
    expect(nameParts("public.orders")).toEqual(["public", "orders"]);
    expect(nameParts('public."Order.Lines"')).toEqual(["public", "Order.Lines"]);
    expect(nameParts('"say ""hi"""')).toEqual(['say "hi"']);
    expect(nameParts("`shop`.`orders`")).toEqual(["shop", "orders"]);
    expect(nameParts("orders")).toEqual(["orders"]);
  });
});

describe("tableReference", () => {
  it("inserts a table by its name and a file as a string literal", () => {
    expect(tableReference({ name: "public.orders", kind: "table", columns: [] })).toBe("public.orders");
    expect(tableReference({ name: "out/o'brien.parquet", kind: "file", columns: [] })).toBe("'out/o''brien.parquet'");
  });
});

describe("completionSchema", () => {
  it("nests tables under their schema and completes the common one without it", () => {
    const { schema, defaultSchema } = completionSchema([
      { name: "public.orders", kind: "table", columns: [{ name: "id", type: "int8" }] },
      { name: 'public."a.b"', kind: "view", columns: [] },
      { name: "audit.events", kind: "table", columns: [] },
    ]);
    expect(defaultSchema).toBe("public");
    expect(schema).toEqual({
      "public.orders": [{ label: "id", type: "property", detail: "int8" }],
      "public.a\\.b": [],
      "audit.events": [],
    });
  });

  it("picks the schema most tables are in when there is no public one", () => {
    const tables = ["shop.a", "shop.b", "logs.c"].map((name) => ({ name, kind: "table" as const, columns: [] }));
    expect(completionSchema(tables).defaultSchema).toBe("shop");
    expect(completionSchema([{ name: "t", kind: "table", columns: [] }]).defaultSchema).toBeUndefined();
  });

  it("completes a file by its path and inserts it as a literal", () => {
    const { schema } = completionSchema([
      { name: "out/orders.parquet", kind: "file", columns: [{ name: "n", type: "BIGINT" }] },
    ]);
    expect(schema).toEqual({
      "out/orders\\.parquet": {
        self: { label: "out/orders.parquet", apply: "'out/orders.parquet'", type: "type", detail: "file" },
        children: [{ label: "n", type: "property", detail: "BIGINT" }],
      },
    });
  });
});

describe("filterTables", () => {
  const tables = [
    { name: "public.orders", kind: "table" as const, columns: [{ name: "customer_id", type: "int8" }] },
    { name: "public.customers", kind: "table" as const, columns: [{ name: "id", type: "int8" }] },
  ];

  it("keeps every table for an empty filter", () => {
    expect(filterTables(tables, "  ").map((t) => t.table.name)).toEqual(["public.orders", "public.customers"]);
  });

  it("matches table names, then column names (to open those tables), ignoring case", () => {
    expect(filterTables(tables, "CUSTOMER")).toEqual([
      { table: tables[0], columnMatch: true },
      { table: tables[1], columnMatch: false },
    ]);
    expect(filterTables(tables, "nothing")).toEqual([]);
  });
});
