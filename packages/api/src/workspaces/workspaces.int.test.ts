import { type ApiHarness, createApiHarness, rejects } from "@sluice/test-kit/api-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scheduleQueueFor } from "../schedules/schedule-queue";
import { teams } from "./testing/teams";
import { MAX_WORKSPACES_PER_USER } from "./workspace-service";

// Workspaces themselves: anyone signed in makes more, each request addresses one by the workspace header, admins
// rename, owners delete (with the name typed again, and no run active), and what a workspace holds stays in it.

let h: ApiHarness;

beforeAll(async () => {
  h = await createApiHarness("workspaces");
});
afterAll(async () => {
  await h?.close();
});

const { person, team, as } = teams(() => h);

describe("making and switching", () => {
  it("makes a workspace its maker owns, listed by who-am-I, and keeps each workspace's pipelines apart", async () => {
    const ada = await person("Ada");
    const first = (await (await as(ada)).auth.me())!.workspaces[0]!;
    const made = await (await as(ada)).workspaces.create({ name: "  Data team  " });
    expect(made.name).toBe("Data team");
    const me = (await (await as(ada)).auth.me())!;
    expect(me.workspaces.map((w) => [w.id, w.role])).toEqual([
      [first.id, "OWNER"],
      [made.id, "OWNER"],
    ]);
    await (await as(ada, made.id)).pipelines.create({ name: "In the team" });
    await (await as(ada, first.id)).pipelines.create({ name: "Mine" });
    const inTeam = await (await as(ada, made.id)).pipelines.list({});
    expect(inTeam.map((p) => p.name)).toEqual(["In the team"]);
    // Without the header, the first workspace: what the API did before there was more than one.
    expect((await (await as(ada)).pipelines.list({})).map((p) => p.name)).toEqual(["Mine"]);
  });

  it("refuses a workspace the caller is not a member of, with FORBIDDEN naming it so", async () => {
    const ada = await person("Ada");
    const bob = await person("Bob");
    const bobs = (await (await as(bob)).auth.me())!.workspaces[0]!.id;
    const err = await rejects((await as(ada, bobs)).pipelines.list({}));
    expect(err.code).toBe("FORBIDDEN");
    expect(err.message).toBe("you are not a member of that workspace");
  });

  it(`stops making workspaces for an account in ${MAX_WORKSPACES_PER_USER} of them`, async () => {
    const ada = await person("Ada");
    const already = await h.db.membership.count({ where: { userId: ada.userId } });
    const workspaces = Array.from({ length: MAX_WORKSPACES_PER_USER - already }, (_, i) => ({
      name: `Many ${i}`,
      slug: `many-${ada.userId}-${i}`,
    }));
    const made = await h.db.workspace.createManyAndReturn({ data: workspaces, select: { id: true } });
    await h.db.membership.createMany({
      data: made.map((w) => ({ userId: ada.userId, workspaceId: w.id, role: "VIEWER" as const })),
    });
    const err = await rejects((await as(ada)).workspaces.create({ name: "One more" }));
    expect(err.code).toBe("PRECONDITION_FAILED");
    expect(err.message).toMatch(/leave one before making another$/);
  });
});

describe("renaming", () => {
  it("lets an admin rename the workspace the request addresses, and no other", async () => {
    const { workspaceId, members } = await team("ADMIN");
    const admin = members[0]!;
    const ownId = (await (await as(admin)).auth.me())!.workspaces[0]!.id;
    await (await as(admin, workspaceId)).workspaces.rename({ name: "Renamed" });
    expect((await h.db.workspace.findUniqueOrThrow({ where: { id: workspaceId } })).name).toBe("Renamed");
    expect((await h.db.workspace.findUniqueOrThrow({ where: { id: ownId } })).name).toBe("Admin's workspace");
    const me = (await (await as(admin)).auth.me())!;
    expect(me.workspaces.find((w) => w.id === workspaceId)?.name).toBe("Renamed");
  });

  it("refuses an empty name with a sentence", async () => {
    const { workspaceId, owner } = await team();
    const err = await rejects((await as(owner, workspaceId)).workspaces.rename({ name: "   " }));
    expect(err.message).toBe("name: write a name");
  });
});

describe("deleting", () => {
  it("asks for the name typed again", async () => {
    const { workspaceId, owner } = await team();
    const err = await rejects((await as(owner, workspaceId)).workspaces.delete({ confirmName: "something else" }));
    expect(err.code).toBe("BAD_REQUEST");
    expect(err.message).toBe("confirmName: type the workspace's name, Owner's workspace, to delete it");
    expect(await h.db.workspace.count({ where: { id: workspaceId } })).toBe(1);
  });

  it("refuses while a run is active", async () => {
    const { workspaceId, owner } = await team();
    const api = await as(owner, workspaceId);
    const { id: pipelineId } = await api.pipelines.create({ name: "Busy" });
    const { versionId } = await h.db.pipeline
      .findUniqueOrThrow({ where: { id: pipelineId }, select: { versions: { select: { id: true } } } })
      .then((p) => ({ versionId: p.versions[0]!.id }));
    await h.db.run.create({
      data: { workspaceId, pipelineId, versionId, status: "RUNNING", startedById: owner.userId },
    });
    const err = await rejects(api.workspaces.delete({ confirmName: "Owner's workspace" }));
    expect(err.code).toBe("PRECONDITION_FAILED");
    expect(err.message).toBe("1 run is still active in this workspace: stop it first");
    expect(await h.db.pipeline.count({ where: { workspaceId } })).toBe(1);
  });

  it("removes everything in it, its schedules' timers included, and its members' next requests are refused", async () => {
    const { workspaceId, owner, members } = await team("EDITOR");
    const editor = members[0]!;
    const api = await as(owner, workspaceId);
    const { id: pipelineId } = await api.pipelines.create({ name: "Doomed" });
    const { schedule } = await api.schedules.create({ pipelineId, pattern: "0 3 * * *" });
    const queue = scheduleQueueFor(h.deps);
    expect(await queue.getJobScheduler(schedule.id)).toBeTruthy();
    await api.invitations.create({ role: "VIEWER" });

    await api.workspaces.delete({ confirmName: "Owner's workspace" });
    expect(await h.db.workspace.count({ where: { id: workspaceId } })).toBe(0);
    expect(await h.db.pipeline.count({ where: { workspaceId } })).toBe(0);
    expect(await h.db.membership.count({ where: { workspaceId } })).toBe(0);
    expect(await h.db.invitation.count({ where: { workspaceId } })).toBe(0);
    expect(await queue.getJobScheduler(schedule.id)).toBeFalsy();
    const err = await rejects((await as(editor, workspaceId)).pipelines.list({}));
    expect(err.code).toBe("FORBIDDEN");
    // The editor keeps their own workspace.
    expect((await (await as(editor)).auth.me())!.workspaces.map((w) => w.name)).toEqual(["Editor's workspace"]);
  });

  it("is for owners only, checked again under the lock", async () => {
    const { workspaceId, members } = await team("ADMIN");
    const err = await rejects((await as(members[0]!, workspaceId)).workspaces.delete({ confirmName: "x" }));
    expect(err.code).toBe("FORBIDDEN");
    expect(err.message).toBe("this needs the owner role in this workspace; yours is admin");
  });
});
