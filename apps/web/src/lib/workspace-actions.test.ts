import { WORKSPACE_HEADER as API_HEADER } from "@sluice/api/context";
import { appRouter } from "@sluice/api/root";
import type { AnyTRPCProcedure } from "@trpc/server";
import { describe, expect, it } from "vitest";
import { ACTIONS, allows, refusalText } from "./workspace-actions";
import { WORKSPACE_HEADER } from "./workspace-choice";

// The UI's permission table against the API's own rules: every procedure an action names exists, and its rule is the
// action's role. A button the UI enables is one the API lets through, and one it disables the API refuses.

const procedures = appRouter._def.procedures as unknown as Record<string, AnyTRPCProcedure>;
const ruleOf = (path: string) => (procedures[path]?._def.meta as { access?: string } | undefined)?.access;

describe("workspace actions", () => {
  for (const [name, action] of Object.entries(ACTIONS)) {
    it(`${name}: its procedures need the ${action.needs.toLowerCase()} role`, () => {
      for (const path of action.procedures) expect(ruleOf(path), path).toBe(action.needs.toLowerCase());
    });
  }

  it("says who may and whom to ask", () => {
    expect(allows("VIEWER", "editPipelines")).toBe(false);
    expect(allows("EDITOR", "editPipelines")).toBe(true);
    expect(allows(null, "editPipelines")).toBe(false);
    expect(refusalText("VIEWER", "editPipelines")).toBe(
      "Viewers cannot edit pipelines; ask an admin for the editor role.",
    );
    expect(refusalText("EDITOR", "manageConnections")).toBe(
      "Editors cannot create, change or delete connections; ask an admin for the admin role.",
    );
    expect(refusalText("ADMIN", "ownWorkspace")).toBe(
      "Only owners can delete the workspace or hand it over; ask an owner.",
    );
    expect(refusalText("OWNER", "ownWorkspace")).toBeUndefined();
  });

  it("sends the workspace in the header the API reads", () => {
    expect(WORKSPACE_HEADER).toBe(API_HEADER);
  });
});
