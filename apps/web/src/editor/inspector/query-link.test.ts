import { describe, expect, it } from "vitest";
import { queryLinkFor } from "./query-link";

const connections = [
  { id: "c1", name: "warehouse", type: "postgres" },
  { id: "c2", name: "shop", type: "mariadb" },
];

const sqlOf = (href: string) => new URL(href, "http://x").searchParams.get("sql");
const sourceOf = (href: string) => new URL(href, "http://x").searchParams.get("source");

describe("queryLinkFor", () => {
  it("opens a PostgreSQL sink's table through its connection, quoting each part of the name", () => {
    const link = queryLinkFor("sink.postgres", { connection: "warehouse", table: "public.Orders" }, [], connections)!;
    expect(link.label).toBe("Query this table");
    expect(sourceOf(link.href)).toBe("c1");
    expect(sqlOf(link.href)).toBe('select * from "public"."Orders" limit 100');
  });

  it("quotes MariaDB names with backticks, doubling any inside", () => {
    const link = queryLinkFor("sink.mariadb", { connection: "shop", table: "odd`name" }, [], connections)!;
    expect(sqlOf(link.href)).toBe("select * from `odd``name` limit 100");
  });

  it("reads fields bound to parameters as the parameters' values", () => {
    const parameters = [
      { name: "db", type: "connection" as const, default: "warehouse" },
      { name: "table", type: "string" as const, default: "clicks" },
    ];
    const link = queryLinkFor("sink.postgres", { connection: "{{db}}", table: "{{table}}" }, parameters, connections)!;
    expect(sourceOf(link.href)).toBe("c1");
    expect(sqlOf(link.href)).toBe('select * from "clicks" limit 100');
  });

  it("offers nothing for an unknown connection, a table with no value yet, or a node that writes elsewhere", () => {
    expect(queryLinkFor("sink.postgres", { connection: "gone", table: "t" }, [], connections)).toBeNull();
    expect(queryLinkFor("sink.postgres", { connection: "warehouse", table: "{{t}}" }, [], connections)).toBeNull();
    expect(queryLinkFor("sink.postgres", { connection: "warehouse", table: "x_{{t}}" }, [], connections)).toBeNull();
    expect(queryLinkFor("sink.console", {}, [], connections)).toBeNull();
  });

  it("opens a File sink's folder as the files of its format", () => {
    const link = queryLinkFor("sink.file", { path: "reports/daily/", format: "parquet" }, [], connections)!;
    expect(link.label).toBe("Query these files");
    expect(sourceOf(link.href)).toBe("files");
    expect(sqlOf(link.href)).toBe("select * from 'reports/daily/*.parquet' limit 100");
    expect(sqlOf(queryLinkFor("sink.file", { path: "it's" }, [], connections)!.href)).toBe(
      "select * from 'it''s/*.jsonl' limit 100",
    );
  });
});
