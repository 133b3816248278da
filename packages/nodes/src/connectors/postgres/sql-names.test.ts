import { describe, expect, it } from "vitest";
import { parseTableName, quoteTable, TableName } from "./sql-names";

describe("table names", () => {
  it("splits schema.name, with quoted parts that may hold dots and quotes", () => {
    expect(parseTableName("orders")).toEqual({ schema: undefined, name: "orders" });
    expect(parseTableName("sales.Orders")).toEqual({ schema: "sales", name: "Orders" });
    expect(parseTableName('"my.schema"."odd ""name"""')).toEqual({ schema: "my.schema", name: 'odd "name"' });
    expect(parseTableName("a.b.c")).toBeUndefined();
    expect(parseTableName("a.")).toBeUndefined();
    expect(parseTableName('a"b')).toBeUndefined();
    expect(TableName.safeParse("x.y.z").success).toBe(false);
  });

  it("quotes every part, so no name can inject SQL", () => {
    expect(quoteTable("orders; DROP TABLE x; --")).toBe('"orders; DROP TABLE x; --"');
    expect(quoteTable('"a""; DROP TABLE x; --"')).toBe('"a""; DROP TABLE x; --"');
    expect(() => quoteTable('a"; DROP TABLE x')).toThrow(/not a table name/);
    expect(quoteTable("sales.orders")).toBe('"sales"."orders"');
  });
});
