import { describe, expect, it } from "vitest";
import { FILES_SOURCE, queryHref, readQueryUrl, sourceFromKey, sourceKey } from "./query-url";

describe("query page address", () => {
  it("reads the source and the SQL, taking the first of repeated values", () => {
    expect(readQueryUrl({ source: "c1", sql: 'select * from "orders" limit 100' })).toEqual({
      source: "c1",
      sql: 'select * from "orders" limit 100',
      saved: null,
    });
    expect(readQueryUrl({ source: ["files", "c2"], sql: ["a", "b"] })).toEqual({
      source: "files",
      sql: "a",
      saved: null,
    });
  });

  it("reads a missing or blank source as none and missing SQL as empty", () => {
    expect(readQueryUrl({})).toEqual({ source: null, sql: "", saved: null });
    expect(readQueryUrl({ source: "  ", saved: " " })).toEqual({ source: null, sql: "", saved: null });
  });

  it("writes an address that reads back the same", () => {
    const state = { source: "files", sql: "select count(*)\nfrom 'out/*.parquet' where a = '&?#%'", saved: null };
    const href = queryHref(state);
    expect(href.startsWith("/query?source=files&sql=")).toBe(true);
    const params = new URLSearchParams(href.slice("/query?".length));
    expect(readQueryUrl(Object.fromEntries(params))).toEqual(state);
    expect(queryHref({ source: null, sql: "" })).toBe("/query");
  });

  it("links to a saved query by its id, with edits not saved yet beside it", () => {
    expect(queryHref({ saved: "q1", source: null, sql: "" })).toBe("/query?saved=q1");
    const edited = { saved: "q1", source: "c1", sql: "select 2" };
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
