import { describe, expect, it } from "vitest";
import { FILES_SOURCE, queryHref, readQueryUrl, sourceFromKey, sourceKey } from "./query-url";

describe("query page address", () => {
  it("reads the source and the SQL, taking the first of repeated values", () => {
    expect(readQueryUrl({ source: "c1", sql: 'select * from "orders" limit 100' })).toEqual({
      source: "c1",
      sql: 'select * from "orders" limit 100',
      saved: null,
      params: {},
      types: {},
    });
    expect(readQueryUrl({ source: ["files", "c2"], sql: ["a", "b"] })).toEqual({
      source: "files",
      sql: "a",
      saved: null,
      params: {},
      types: {},
    });
  });

  it("reads a missing or blank source as none and missing SQL as empty", () => {
    const none = { source: null, sql: "", saved: null, params: {}, types: {} };
    expect(readQueryUrl({})).toEqual(none);
    expect(readQueryUrl({ source: "  ", saved: " " })).toEqual(none);
  });

  it("ignores parameter keys that name no parameter and types that are none", () => {
    expect(readQueryUrl({ "p.Bad": "1", "t.x": "date", "p.x": "2" })).toMatchObject({ params: { x: "2" }, types: {} });
  });

  it("writes an address that reads back the same", () => {
    const state = {
      source: "files",
      sql: "select count(*)\nfrom 'out/*.parquet' where a = '&?#%' and t >= {{from}}",
      saved: null,
      params: { from: "now-1h", region: "eu & us" },
      types: { region: "text" as const },
    };
    const href = queryHref(state);
    expect(href.startsWith("/query?source=files&p.from=now-1h&p.region=eu+%26+us&t.region=text&sql=")).toBe(true);
    const params = new URLSearchParams(href.slice("/query?".length));
    expect(readQueryUrl(Object.fromEntries(params))).toEqual(state);
    expect(queryHref({ source: null, sql: "" })).toBe("/query");
  });

  it("links to a saved query by its id, with edits not saved yet beside it", () => {
    expect(queryHref({ saved: "q1", source: null, sql: "" })).toBe("/query?saved=q1");
    const edited = { saved: "q1", source: "c1", sql: "select 2", params: { n: "3" }, types: {} };
    const params = new URLSearchParams(queryHref(edited).slice("/query?".length));
    expect(readQueryUrl(Object.fromEntries(params))).toEqual(edited);
  });

  it("leaves out SQL too long for an address, keeping the source", () => {
    expect(queryHref({ source: "c1", sql: `select '${"x".repeat(9000)}'` })).toBe("/query?source=c1");
  });

  it("maps sources to their address names and back", () => {
    expect(sourceKey({ kind: "files" })).toBe(FILES_SOURCE);
    expect(sourceKey({ kind: "connection", connectionId: "c1" })).toBe("c1");
    expect(sourceFromKey("files")).toEqual({ kind: "files" });
    expect(sourceFromKey("c1")).toEqual({ kind: "connection", connectionId: "c1" });
  });
});
