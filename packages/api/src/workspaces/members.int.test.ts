import { type ApiHarness, createApiHarness, rejects } from "@sluice/test-kit/api-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Person, teams } from "./testing/teams";

// Members and roles: admins manage members up to admin, only owners touch owners, the last owner stays whatever two
// requests do at once, and a removed or demoted member's very next request is judged by what they are now.

let h: ApiHarness;

beforeAll(async () => {
  h = await createApiHarness("members");
});
afterAll(async () => {
  await h?.close();
});

const { person, team, as, roleOf } = teams(() => h);

const owners = (workspaceId: string) => h.db.membership.count({ where: { workspaceId, role: "OWNER" } });

describe("listing members", () => {
  it("shows every member with their role, owners first, and marks the caller", async () => {
    const { workspaceId, owner, members } = await team("VIEWER", "ADMIN");
    const [viewer, admin] = members as [Person, Person];
    const list = await (await as(viewer, workspaceId)).members.list();
    expect(list.map((m) => [m.email, m.role, m.you])).toEqual([
      [owner.email, "OWNER", false],
      [admin.email, "ADMIN", false],
      [viewer.email, "VIEWER", true],
    ]);
  });
});

describe("changing roles", () => {
  it("lets an admin grant up to admin, and not the owner role", async () => {
    const { workspaceId, members } = await team("ADMIN", "VIEWER");
    const [admin, viewer] = members as [Person, Person];
    const api = await as(admin, workspaceId);
    await api.members.setRole({ userId: viewer.userId, role: "EDITOR" });
    expect(await roleOf(viewer.userId, workspaceId)).toBe("EDITOR");
    await api.members.setRole({ userId: viewer.userId, role: "ADMIN" });
    expect(await roleOf(viewer.userId, workspaceId)).toBe("ADMIN");
    const err = await rejects(api.members.setRole({ userId: viewer.userId, role: "OWNER" }));
    expect(err.code).toBe("FORBIDDEN");
    expect(err.message).toBe("only an owner can make someone an owner");
    expect(await roleOf(viewer.userId, workspaceId)).toBe("ADMIN");
  });

  it("keeps admins away from owners: they can neither demote nor remove one", async () => {
    const { workspaceId, owner, members } = await team("ADMIN");
    const api = await as(members[0]!, workspaceId);
    const demote = await rejects(api.members.setRole({ userId: owner.userId, role: "VIEWER" }));
    expect(demote.code).toBe("FORBIDDEN");
    expect(demote.message).toBe("only an owner can change an owner's role");
    const remove = await rejects(api.members.remove({ userId: owner.userId }));
    expect(remove.message).toBe("only an owner can remove an owner");
    expect(await roleOf(owner.userId, workspaceId)).toBe("OWNER");
  });

  it("lets an owner make another owner, who can then demote the first", async () => {
    const { workspaceId, owner, members } = await team("EDITOR");
    const editor = members[0]!;
    await (await as(owner, workspaceId)).members.setRole({ userId: editor.userId, role: "OWNER" });
    expect(await owners(workspaceId)).toBe(2);
    await (await as(editor, workspaceId)).members.setRole({ userId: owner.userId, role: "VIEWER" });
    expect(await roleOf(owner.userId, workspaceId)).toBe("VIEWER");
  });

  it("refuses editors and viewers at the rule, before anything is looked up", async () => {
    const { workspaceId, members } = await team("EDITOR", "VIEWER");
    const [editor, viewer] = members as [Person, Person];
    const err = await rejects(
      (await as(editor, workspaceId)).members.setRole({ userId: viewer.userId, role: "ADMIN" }),
    );
    expect(err.code).toBe("FORBIDDEN");
    expect(err.message).toBe("this needs the admin role in this workspace; yours is editor");
    expect(await roleOf(viewer.userId, workspaceId)).toBe("VIEWER");
  });

  it("names a member of another workspace as unknown, and changes nothing there", async () => {
    const a = await team("ADMIN");
    const b = await team("VIEWER");
    const err = await rejects(
      (await as(a.members[0]!, a.workspaceId)).members.setRole({ userId: b.members[0]!.userId, role: "EDITOR" }),
    );
    expect(err.code).toBe("NOT_FOUND");
    expect(await roleOf(b.members[0]!.userId, b.workspaceId)).toBe("VIEWER");
  });
});

describe("the last owner", () => {
  it("cannot leave, nor demote or remove themselves", async () => {
    const { workspaceId, owner } = await team("ADMIN");
    const api = await as(owner, workspaceId);
    const leave = await rejects(api.members.leave());
    expect(leave.code).toBe("PRECONDITION_FAILED");
    expect(leave.message).toMatch(/^you are the last owner of .+: make another member owner first, or delete/);
    const demote = await rejects(api.members.setRole({ userId: owner.userId, role: "ADMIN" }));
    expect(demote.message).toMatch(/^you are the last owner of .+: make another member owner first$/);
    const remove = await rejects(api.members.remove({ userId: owner.userId }));
    expect(remove.code).toBe("PRECONDITION_FAILED");
    expect(await roleOf(owner.userId, workspaceId)).toBe("OWNER");
  });

  it("can leave once there is another owner", async () => {
    const { workspaceId, owner, members } = await team("OWNER");
    await (await as(owner, workspaceId)).members.leave();
    expect(await roleOf(owner.userId, workspaceId)).toBeNull();
    expect(await roleOf(members[0]!.userId, workspaceId)).toBe("OWNER");
  });

  it("stays when two owners leave at the same moment: one of them is refused", async () => {
    for (let round = 0; round < 8; round++) {
      const { workspaceId, owner, members } = await team("OWNER");
      const [first, second] = [await as(owner, workspaceId), await as(members[0]!, workspaceId)];
      const results = await Promise.allSettled([first.members.leave(), second.members.leave()]);
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      const refused = results.find((r) => r.status === "rejected");
      expect(String((refused as PromiseRejectedResult).reason.message)).toMatch(/last owner/);
      expect(await owners(workspaceId)).toBe(1);
    }
  });

  it("stays when two owners demote each other at the same moment", async () => {
    for (let round = 0; round < 8; round++) {
      const { workspaceId, owner, members } = await team("OWNER");
      const other = members[0]!;
      const [first, second] = [await as(owner, workspaceId), await as(other, workspaceId)];
      const results = await Promise.allSettled([
        first.members.setRole({ userId: other.userId, role: "ADMIN" }),
        second.members.setRole({ userId: owner.userId, role: "ADMIN" }),
      ]);
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      expect(await owners(workspaceId)).toBe(1);
    }
  });

  it("stays when one owner leaves while the other removes them", async () => {
    for (let round = 0; round < 8; round++) {
      const { workspaceId, owner, members } = await team("OWNER");
      const other = members[0]!;
      const [first, second] = [await as(owner, workspaceId), await as(other, workspaceId)];
      await Promise.allSettled([
        first.members.leave(),
        second.members.remove({ userId: owner.userId }),
        first.members.remove({ userId: other.userId }),
      ]);
      expect(await owners(workspaceId)).toBe(1);
    }
  });
});

describe("handing the workspace over", () => {
  it("makes the member an owner and the caller an admin, at once", async () => {
    const { workspaceId, owner, members } = await team("VIEWER");
    const viewer = members[0]!;
    const answer = await (await as(owner, workspaceId)).members.transferOwnership({ userId: viewer.userId });
    expect(answer.changed).toEqual([
      { userId: viewer.userId, role: "OWNER" },
      { userId: owner.userId, role: "ADMIN" },
    ]);
    expect(await roleOf(viewer.userId, workspaceId)).toBe("OWNER");
    expect(await roleOf(owner.userId, workspaceId)).toBe("ADMIN");
    // The former owner is an admin now: owner-only calls are refused on their next request.
    const err = await rejects((await as(owner, workspaceId)).members.transferOwnership({ userId: viewer.userId }));
    expect(err.code).toBe("FORBIDDEN");
  });

  it("refuses a non-member and the caller themselves", async () => {
    const { workspaceId, owner } = await team();
    const stranger = await person("Stranger");
    const api = await as(owner, workspaceId);
    expect((await rejects(api.members.transferOwnership({ userId: stranger.userId }))).code).toBe("NOT_FOUND");
    expect((await rejects(api.members.transferOwnership({ userId: owner.userId }))).code).toBe("BAD_REQUEST");
    expect(await roleOf(owner.userId, workspaceId)).toBe("OWNER");
  });
});

describe("a member's next request", () => {
  it("is refused once they are removed, with the same session", async () => {
    const { workspaceId, owner, members } = await team("EDITOR");
    const editor = members[0]!;
    const api = await as(editor, workspaceId);
    await api.pipelines.create({ name: "Before removal" });
    await (await as(owner, workspaceId)).members.remove({ userId: editor.userId });
    // The caller was built before the removal: its context holds the session read then. A new request reads anew.
    const next = await as(editor, workspaceId);
    const err = await rejects(next.pipelines.list({}));
    expect(err.code).toBe("FORBIDDEN");
    expect(err.message).toBe("you are not a member of that workspace");
    // Their own workspace still answers.
    await expect((await h.caller(editor.cookie)).api.pipelines.list({})).resolves.toEqual([]);
  });

  it("is refused once they leave", async () => {
    const { workspaceId, members } = await team("VIEWER");
    const viewer = members[0]!;
    await (await as(viewer, workspaceId)).members.leave();
    const err = await rejects((await as(viewer, workspaceId)).members.list());
    expect(err.code).toBe("FORBIDDEN");
  });

  it("carries their new role at once, up and down", async () => {
    const { workspaceId, owner, members } = await team("VIEWER");
    const viewer = members[0]!;
    const refused = await rejects((await as(viewer, workspaceId)).pipelines.create({ name: "Too early" }));
    expect(refused.message).toBe("this needs the editor role in this workspace; yours is viewer");
    const ownerApi = await as(owner, workspaceId);
    await ownerApi.members.setRole({ userId: viewer.userId, role: "EDITOR" });
    await (await as(viewer, workspaceId)).pipelines.create({ name: "Now allowed" });
    await ownerApi.members.setRole({ userId: viewer.userId, role: "VIEWER" });
    expect((await rejects((await as(viewer, workspaceId)).pipelines.create({ name: "Again" }))).code).toBe("FORBIDDEN");
  });
});
