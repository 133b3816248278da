import type { ApiHarness } from "@sluice/test-kit/api-harness";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
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

// The authorization matrix: every procedure of appRouter (listed from the router, not by hand) declares its rule,
// and is called as anonymous, as a user of another workspace, and as a viewer, editor, admin and owner of the
// workspace, with a minimal valid input. UNAUTHORIZED / FORBIDDEN come exactly where the rule says, and nowhere
// else; a user of another workspace calling with this workspace's ids gets nothing of it.

const RANK: Record<Access, number> = { public: 0, signedIn: 1, viewer: 2, editor: 3, admin: 4, owner: 5 };

type CallerKind = "anonymous" | "outsider" | (typeof MEMBER_ROLES)[number];
/** What each kind of caller holds, on the same scale as the rules. */
const HOLDS: Record<CallerKind, number> = { anonymous: 0, outsider: 1, VIEWER: 2, EDITOR: 3, ADMIN: 4, OWNER: 5 };
const CALLERS = Object.keys(HOLDS) as CallerKind[];

let h: ApiHarness;
let fx: RoleFixture;
const procedures = listProcedures();

beforeAll(async () => {
  ({ h, fx } = await createRoleHarness("authz"));
});
afterAll(async () => {
  await h?.close();
});

type Outcome = { ok: true; value: unknown } | { ok: false; error: TRPCError };

async function attempt(api: Caller, info: ProcedureInfo, input: unknown): Promise<Outcome> {
  try {
    return { ok: true, value: await callProcedure(api, info, input) };
  } catch (err) {
    if (!(err instanceof TRPCError)) throw err;
    return { ok: false, error: err };
  }
}

async function callerFor(kind: CallerKind, info: ProcedureInfo): Promise<Caller> {
  if (kind === "anonymous") return fx.callerAs(undefined, fx.workspaceId);
  const person = kind === "outsider" ? fx.outsider : fx.members[kind];
  // Signing out ends the session it is called with: give it one of its own.
  const cookie = info.path === "auth.signOut" ? await fx.freshCookie(person) : person.cookie;
  return fx.callerAs(cookie, fx.workspaceId);
}

function describeOutcome(o: Outcome): string {
  return o.ok ? "success" : `${o.error.code}: ${o.error.message}`;
}

describe("declared rules", () => {
  it("lists the procedures from appRouter", () => {
    expect(procedures.length).toBeGreaterThan(30);
    expect(procedures.map((p) => p.path)).toContain("pipelines.preview");
  });

  it("finds a rule on every procedure (one built on a bare builder has none)", () => {
    expect(procedures.filter((p) => p.access === undefined).map((p) => p.path)).toEqual([]);
  });

  it("knows a minimal valid input for every procedure", () => {
    expect(procedures.filter((p) => !fx.hasSample(p.path)).map((p) => p.path)).toEqual([]);
  });

  it("keeps viewers away from live systems: Test, discovery and preview need the editor role", () => {
    const rule = (path: string) => procedures.find((p) => p.path === path)?.access;
    expect(rule("connections.test")).toBe("editor");
    expect(rule("connections.discover")).toBe("editor");
    expect(rule("pipelines.preview")).toBe("editor");
  });

  it("shows a run's live figures to every member, as its live status", () => {
    const rule = (path: string) => procedures.find((p) => p.path === path)?.access;
    expect(rule("runs.figures")).toBe("viewer");
    expect(rule("runs.figures")).toBe(rule("runs.live"));
  });

  it("shows a run's and a pipeline's figure history to every member, as their live figures", () => {
    const rule = (path: string) => procedures.find((p) => p.path === path)?.access;
    expect(rule("runs.history")).toBe("viewer");
    expect(rule("pipelines.history")).toBe(rule("runs.figures"));
  });

  it("shows a run's timeline and log to every member, as its live status", () => {
    const rule = (path: string) => procedures.find((p) => p.path === path)?.access;
    expect(rule("runs.timeline")).toBe("viewer");
    expect(rule("runs.timeline")).toBe(rule("runs.live"));
    expect(rule("runs.logs")).toBe("viewer");
    expect(rule("runs.logTail")).toBe(rule("runs.logs"));
  });

  it("shows alerts and the inbox to every member; silencing takes the editor role, as editing the rules does", () => {
    const rule = (path: string) => procedures.find((p) => p.path === path)?.access;
    expect(rule("alerts.list")).toBe("viewer");
    expect(rule("alerts.inbox")).toBe("viewer");
    expect(rule("alerts.markRead")).toBe("editor");
    expect(rule("alerts.silence")).toBe("editor");
    expect(rule("alerts.unsilence")).toBe(rule("pipelines.saveVersion"));
  });

  it("shows dead letters and their groups to every member; acting on them takes the editor role", () => {
    const rule = (path: string) => procedures.find((p) => p.path === path)?.access;
    expect(rule("runs.deadLetters")).toBe("viewer");
    expect(rule("runs.deadLetterGroups")).toBe("viewer");
    for (const path of [
      "runs.replayDeadLetters",
      "runs.discardDeadLetters",
      "runs.fixDeadLetters",
      "runs.fixDeadLetter",
      "runs.previewDeadLetterFix",
    ]) {
      expect(rule(path), path).toBe("editor");
    }
  });

  it("lets any member see the fleet: it is the installation's shared infrastructure", () => {
    expect(procedures.find((p) => p.path === "fleet.list")?.access).toBe("viewer");
  });

  it("leaves connections' credentials to admins: editors use connections, admins make and change them", () => {
    const rule = (path: string) => procedures.find((p) => p.path === path)?.access;
    for (const path of ["connections.create", "connections.update", "connections.delete"]) {
      expect(rule(path), path).toBe("admin");
    }
    expect(rule("connections.list")).toBe("viewer");
    expect(rule("connections.test")).toBe("editor");
  });

  it("gives members and invitations to admins, and the workspace itself to owners", () => {
    const rule = (path: string) => procedures.find((p) => p.path === path)?.access;
    expect(rule("members.list")).toBe("viewer");
    expect(rule("members.leave")).toBe("viewer");
    for (const path of ["members.setRole", "members.remove", "invitations.create", "invitations.list"]) {
      expect(rule(path), path).toBe("admin");
    }
    expect(rule("invitations.revoke")).toBe("admin");
    expect(rule("workspaces.rename")).toBe("admin");
    expect(rule("members.transferOwnership")).toBe("owner");
    expect(rule("workspaces.delete")).toBe("owner");
    // The link's page is seen before signing in; accepting needs an account, not a membership.
    expect(rule("invitations.preview")).toBe("public");
    expect(rule("invitations.accept")).toBe("signedIn");
    expect(rule("workspaces.create")).toBe("signedIn");
  });

  it("shows the overview to every member, as the runs and figures it sums up", () => {
    const rule = (path: string) => procedures.find((p) => p.path === path)?.access;
    expect(rule("overview.get")).toBe("viewer");
    expect(rule("overview.get")).toBe(rule("runs.figures"));
  });
});

describe("the matrix", () => {
  for (const info of procedures) {
    it(`${info.path} (${info.access ?? "no rule"})`, async () => {
      const rule = info.access;
      expect(rule, "the procedure declares no rule").toBeDefined();
      const needs = RANK[rule!];
      const seen: string[] = [];
      for (const kind of CALLERS) {
        const api = await callerFor(kind, info);
        const outcome = await attempt(api, info, await fx.sampleInput(info.path));
        await fx.restoreAfter(info.path);
        seen.push(`${kind}: ${describeOutcome(outcome)}`);
        const context = `${info.path} as ${kind}\n${seen.join("\n")}`;
        if (HOLDS[kind] < needs) {
          expect(outcome.ok, context).toBe(false);
          const wanted = kind === "anonymous" ? "UNAUTHORIZED" : "FORBIDDEN";
          expect(!outcome.ok && outcome.error.code, context).toBe(wanted);
          expect(!outcome.ok && outcome.error.message.length, context).toBeGreaterThan(0);
        } else if (!outcome.ok) {
          expect(["UNAUTHORIZED", "FORBIDDEN", "INTERNAL_SERVER_ERROR"], context).not.toContain(outcome.error.code);
          // The sample inputs are valid: a refusal by the schema would mean the call never got past it.
          expect(outcome.error.cause instanceof z.ZodError, context).toBe(false);
        }
      }
    });
  }
});

/** What workspace A holds, to compare before and after a call from outside it. */
async function snapshotOfA(): Promise<string> {
  const where = { workspaceId: fx.workspaceId };
  const [pipelines, connections, schedules, runs, versions, members, silences, invitations, workspace] =
    await Promise.all([
      h.db.pipeline.findMany({
        where,
        orderBy: { id: "asc" },
        select: { id: true, name: true, description: true, latestVersion: true },
      }),
      h.db.connection.findMany({ where, orderBy: { id: "asc" }, select: { id: true, name: true, updatedAt: true } }),
      h.db.schedule.findMany({ where, orderBy: { id: "asc" }, select: { id: true, enabled: true, updatedAt: true } }),
      h.db.run.findMany({ where, orderBy: { id: "asc" }, select: { id: true, status: true } }),
      h.db.pipelineVersion.count({ where: { pipeline: where } }),
      h.db.membership.findMany({ where, orderBy: { userId: "asc" }, select: { userId: true, role: true } }),
      h.db.alertSilence.findMany({ where, orderBy: { id: "asc" }, select: { id: true, until: true } }),
      h.db.invitation.findMany({
        where,
        orderBy: { id: "asc" },
        select: { id: true, role: true, acceptedAt: true, revokedAt: true },
      }),
      h.db.workspace.findUniqueOrThrow({ where: { id: fx.workspaceId }, select: { name: true } }),
    ]);
  return JSON.stringify({
    pipelines,
    connections,
    schedules,
    runs,
    versions,
    members,
    silences,
    invitations,
    workspace,
  });
}

describe("a user of another workspace, in their own, with this workspace's ids", () => {
  for (const info of procedures) {
    it(`${info.path} gives them nothing of it`, async () => {
      if (RANK[info.access!] < RANK.signedIn) return; // public procedures carry no workspace
      const cookie = info.path === "auth.signOut" ? await fx.freshCookie(fx.outsider) : fx.outsider.cookie;
      const api = await fx.callerAs(cookie); // no workspace header: their own workspace
      const input = await fx.sampleInput(info.path);
      const before = await snapshotOfA();
      const outcome = await attempt(api, info, input);
      const context = `${info.path}: ${describeOutcome(outcome)}`;
      const shown = outcome.ok ? JSON.stringify(outcome.value ?? null) : outcome.error.message;
      for (const marker of fx.markers) expect(shown, context).not.toContain(marker);
      if (!outcome.ok) {
        // NOT_FOUND for another workspace's ids; never a hint that they exist elsewhere.
        expect(["UNAUTHORIZED", "FORBIDDEN", "INTERNAL_SERVER_ERROR"], context).not.toContain(outcome.error.code);
      }
      expect(await snapshotOfA(), context).toBe(before);
      await fx.restoreAfter(info.path);
    });
  }
});
