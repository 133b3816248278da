import { describe, expect, it } from "vitest";
import { toCsv } from "./result-files";

describe("toCsv", () => {
  it("writes a header and one CRLF-ended line per row", () => {
    expect(
      toCsv(
        [{ name: "id" }, { name: "name" }],
        [
          [1, "ada"],
          [2, "grace"],
        ],
      ),
    ).toBe("id,name\r\n1,ada\r\n2,grace\r\n");
  });

  it("quotes fields with commas, quotes or line breaks, doubling the quotes", () => {
    const csv = toCsv([{ name: "a,b" }], [['say "hi"'], ["two\nlines"], ["cr\rhere"], ["plain text"]]);
    expect(csv).toBe('"a,b"\r\n"say ""hi"""\r\n"two\nlines"\r\n"cr\rhere"\r\nplain text\r\n');
  });

  it("writes null as an empty field, JSON compactly and booleans as words", () => {
    const csv = toCsv([{ name: "n" }, { name: "j" }, { name: "b" }], [[null, { a: [1, 2], b: "x" }, true]]);
    expect(csv).toBe('n,j,b\r\n,"{""a"":[1,2],""b"":""x""}",true\r\n');
  });

  it("fills a short row with empty fields and writes a result without rows as its header", () => {
    expect(toCsv([{ name: "a" }, { name: "b" }], [[1]])).toBe("a,b\r\n1,\r\n");
    expect(toCsv([{ name: "a" }], [])).toBe("a\r\n");
  });
});
