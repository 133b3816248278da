import type { ApiHarness } from "@sluice/test-kit/api-harness";
import { type AnyTRPCProcedure, TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createRequestContext } from "../src/context";
import { appRouter, createCaller } from "../src/root";
import { TOKEN_SCOPES, type TokenRule, type TokenScope, tokenRule } from "../src/tokens/token-scopes";
import { createToken } from "../src/tokens/token-service";
import type { Access } from "../src/trpc";
import {
  type Caller,
  callProcedure,
  createRoleHarness,
  listProcedures,
  type MEMBER_ROLES,
  type ProcedureInfo,
  type RoleFixture,
} from "./role-fixture";

// The authorization matrix's token dimension: every procedure of appRouter (listed from the router) has a token rule
// (tokens/token-scopes.ts, from its meta), and is called with personal API tokens of workspace A's members: one
// holding every scope but the one the rule names is refused with FORBIDDEN naming that scope; one holding only that
// scope gets past every check when its creator's role satisfies the procedure's rule, and is refused by the role when
// it does not; a procedure no token may call ("session") refuses a token holding every scope.

type MemberRole = (typeof MEMBER_ROLES)[number];

let h: ApiHarness;
let fx: RoleFixture;
const procedures = listProcedures();

beforeAll(async () => {
  ({ h, fx } = await createRoleHarness("token-matrix"));
});
afterAll(async () => {
  await h?.close();
});

function ruleOf(info: ProcedureInfo): TokenRule {
  const procedure = (appRouter._def.procedures as unknown as Record<string, AnyTRPCProcedure>)[info.path]!;
  return tokenRule(procedure._def.meta as { access?: Access; scope?: TokenRule } | undefined, info.type);
}

/** The member of A whose role the procedure's rule asks for (the owner for rules above membership). */
const HOLDER: Record<Access, MemberRole> = {
  public: "OWNER",
  signedIn: "OWNER",
  viewer: "VIEWER",
  editor: "EDITOR",
  admin: "ADMIN",
  owner: "OWNER",
};

const secrets = new Map<string, string>();

/** A caller with a personal token of `role`'s member in A holding `scopes`; one token per combination. */
async function tokenCaller(role: MemberRole, scopes: readonly TokenScope[]): Promise<Caller> {
  const key = `${role}:${scopes.join(",")}`;
  let secret = secrets.get(key);
  if (!secret) {
    ({ secret } = await createToken(h.db, {
      workspaceId: fx.workspaceId,
      kind: "PERSONAL",
      createdById: fx.members[role].userId,
      name: key,
      scopes,
      expiresInDays: 1,
    }));
    secrets.set(key, secret);
  }
  const req = new Request("http://sluice.test/api/trpc", { headers: { authorization: `Bearer ${secret}` } });
  return createCaller(await createRequestContext(h.deps, req, new Headers()));
}

type Outcome = { ok: true } | { ok: false; error: TRPCError };

async function attempt(api: Caller, info: ProcedureInfo): Promise<Outcome> {
  try {
    await callProcedure(api, info, await fx.sampleInput(info.path));
    return { ok: true };
  } catch (err) {
    if (!(err instanceof TRPCError)) throw err;
    return { ok: false, error: err };
  } finally {
    await fx.restoreAfter(info.path);
  }
}

const describeOutcome = (o: Outcome) => (o.ok ? "success" : `${o.error.code}: ${o.error.message}`);

describe("declared token rules", () => {
  const rule = (path: string) => {
    const info = procedures.find((p) => p.path === path);
    expect(info, path).toBeDefined();
    return ruleOf(info!);
  };

  it("keeps managing tokens away from tokens, so a leaked one cannot make more", () => {
    const managing = procedures.filter((p) => p.path.startsWith("tokens."));
    expect(managing.map((p) => p.path)).toEqual(
      expect.arrayContaining(["tokens.createPersonal", "tokens.revokeWorkspace"]),
    );
    for (const info of managing) expect(ruleOf(info), info.path).toBe("session");
    expect(rule("ingest.createToken")).toBe("session");
    expect(rule("ingest.revokeToken")).toBe("session");
  });

  it("keeps who belongs to a workspace, and the account itself, away from tokens", () => {
    for (const path of [
      "invitations.create",
      "invitations.list",
      "invitations.revoke",
      "invitations.accept",
      "members.setRole",
      "members.remove",
      "members.transferOwnership",
      "workspaces.create",
      "workspaces.delete",
      "auth.signIn",
      "auth.signUp",
      "auth.signOut",
    ]) {
      expect(rule(path), path).toBe("session");
    }
  });

  it("asks for `run` to steer runs, `write` to change, `read` to read and watch", () => {
    for (const path of ["runs.start", "runs.stop", "runs.pause", "runs.resume", "runs.restart", "schedules.fireNow"]) {
      expect(rule(path), path).toBe("run");
    }
    for (const path of ["pipelines.create", "pipelines.saveVersion", "connections.update", "runs.replayDeadLetters"]) {
      expect(rule(path), path).toBe("write");
    }
    for (const path of ["pipelines.list", "runs.live", "runs.figures", "ingest.status", "auth.me"]) {
      expect(rule(path), path).toBe("read");
    }
  });

  it("leaves `ingest` to the ingest URL: no procedure asks for it", () => {
    expect(procedures.filter((p) => ruleOf(p) === "ingest").map((p) => p.path)).toEqual([]);
  });
});

describe("the matrix with tokens", () => {
  for (const info of procedures) {
    const rule = ruleOf(info);
    it(`${info.path} (${info.access}, token: ${rule})`, async () => {
      const holder = HOLDER[info.access!];
      if (rule === "session") {
        const outcome = await attempt(await tokenCaller(holder, TOKEN_SCOPES), info);
        const context = `${info.path} with every scope: ${describeOutcome(outcome)}`;
        expect(!outcome.ok && outcome.error.code, context).toBe("FORBIDDEN");
        expect(!outcome.ok && outcome.error.message, context).toMatch(/cannot be done with an API token/);
        return;
      }

      const without = await attempt(
        await tokenCaller(
          holder,
          TOKEN_SCOPES.filter((s) => s !== rule),
        ),
        info,
      );
      const seen = [`every scope but ${rule}: ${describeOutcome(without)}`];
      expect(!without.ok && without.error.code, seen.join("\n")).toBe("FORBIDDEN");
      expect(!without.ok && without.error.message, seen.join("\n")).toMatch(`the "${rule}" scope`);

      const only = await attempt(await tokenCaller(holder, [rule]), info);
      seen.push(`only ${rule}, as ${holder}: ${describeOutcome(only)}`);
      if (!only.ok) {
        expect(["UNAUTHORIZED", "FORBIDDEN", "INTERNAL_SERVER_ERROR"], seen.join("\n")).not.toContain(only.error.code);
        expect(only.error.cause instanceof z.ZodError, seen.join("\n")).toBe(false);
      }

      // The scope adds nothing to the role: a viewer's token with every scope meets the rule as the viewer would.
      if (info.access === "editor" || info.access === "admin" || info.access === "owner") {
        const viewer = await attempt(await tokenCaller("VIEWER", TOKEN_SCOPES), info);
        seen.push(`viewer with every scope: ${describeOutcome(viewer)}`);
        expect(!viewer.ok && viewer.error.code, seen.join("\n")).toBe("FORBIDDEN");
        expect(!viewer.ok && viewer.error.message, seen.join("\n")).toMatch(/role in this workspace; yours is viewer/);
      }
    });
  }
});
