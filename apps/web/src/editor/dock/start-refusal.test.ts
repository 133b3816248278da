import { describe, expect, it } from "vitest";
import { browserProblems, serverProblems } from "./start-refusal";

describe("the problems a refused start lists", () => {
  it("reads the server's problems, dropping the node lead the dialog shows in its own column", () => {
    const error = {
      message: "The draft has 2 problems to fix before it can start.",
      data: {
        code: "BAD_REQUEST",
        problems: [
          { nodeId: "keep", path: ["config", "where"], message: "Node keep: Unknown field “statsu”." },
          { edgeIndex: 1, path: ["spec", "edges", 1], message: "The edge goes to a node that does not exist." },
        ],
      },
    };
    expect(serverProblems(error)).toEqual([
      { nodeId: "keep", path: ["config", "where"], message: "Unknown field “statsu”." },
      { edgeIndex: 1, path: ["spec", "edges", 1], message: "The edge goes to a node that does not exist." },
    ]);
  });

  it("lists none for an error without problems, and skips entries that are not problems", () => {
    expect(serverProblems(new Error("cannot reach the server"))).toEqual([]);
    expect(serverProblems({ data: { problems: null } })).toEqual([]);
    expect(serverProblems({ data: { problems: [null, { nodeId: "x" }, { message: "Whole pipeline." }] } })).toEqual([
      { path: [], message: "Whole pipeline." },
    ]);
  });

  it("words the draft's own errors as sentences, keeping where they are", () => {
    const [problem] = browserProblems([
      {
        severity: "error",
        code: "config-invalid",
        nodeId: "keep",
        path: ["config", "where"],
        message: "write a condition",
      },
    ]);
    expect(problem).toEqual({ nodeId: "keep", path: ["config", "where"], message: "Write a condition." });
  });
});
