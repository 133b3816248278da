import { createHash } from "node:crypto";
import { type ApiHarness, createApiHarness, rejects } from "@sluice/test-kit/api-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Person, teams } from "./testing/teams";

// Invitations by link: shown once and stored hashed, previewed by whoever holds the link, accepted once by a signed-in
// user (the one its email names, when it names one), refused with the reason when expired, used, revoked, for
// someone else, by a member already, or when its maker can no longer grant its role.

let h: ApiHarness;

beforeAll(async () => {
  h = await createApiHarness("invitations");
});
afterAll(async () => {
  await h?.close();
});

const { person, team, as, roleOf } = teams(() => h);

async function anonymous() {
  return (await h.caller()).api;
}

/** A workspace with an admin, and an invitation the admin made with `options`. */
async function invited(options: { role?: "VIEWER" | "EDITOR" | "ADMIN"; email?: string; expiresInDays?: number } = {}) {
  const t = await team("ADMIN");
  const admin = t.members[0]!;
  const created = await (await as(admin, t.workspaceId)).invitations.create({ role: "VIEWER", ...options });
  return { ...t, admin, created, token: created.token };
}

describe("making an invitation", () => {
  it("shows the token once and keeps only its sha256, expiring in 7 days unless told otherwise", async () => {
    const before = Date.now();
    const { created, workspaceId } = await invited({ role: "EDITOR" });
    expect(created.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const row = await h.db.invitation.findUniqueOrThrow({ where: { id: created.id } });
    expect(row.tokenHash).toBe(createHash("sha256").update(created.token).digest("hex"));
    expect(JSON.stringify(row)).not.toContain(created.token);
    expect(row.role).toBe("EDITOR");
    expect(row.workspaceId).toBe(workspaceId);
    const days = (row.expiresAt.getTime() - before) / 86_400_000;
    expect(days).toBeGreaterThan(6.99);
    expect(days).toBeLessThan(7.01);
  });

  it("lists pending invitations without their tokens, and takes a chosen expiry", async () => {
    const { admin, workspaceId, created } = await invited({ expiresInDays: 2, email: "Someone@Example.com" });
    const list = await (await as(admin, workspaceId)).invitations.list();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ id: created.id, role: "VIEWER", email: "someone@example.com", expired: false });
    expect(JSON.stringify(list)).not.toContain(created.token);
    const days = (list[0]!.expiresAt.getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(1.99);
    expect(days).toBeLessThan(2.01);
  });

  it("lets only owners invite owners, and refuses an expiry past 30 days", async () => {
    const { admin, owner, workspaceId } = await invited();
    const adminApi = await as(admin, workspaceId);
    const err = await rejects(adminApi.invitations.create({ role: "OWNER" }));
    expect(err.code).toBe("FORBIDDEN");
    expect(err.message).toBe("only an owner can invite someone as an owner");
    await (await as(owner, workspaceId)).invitations.create({ role: "OWNER" });
    const tooLong = await rejects(adminApi.invitations.create({ role: "VIEWER", expiresInDays: 31 }));
    expect(tooLong.code).toBe("BAD_REQUEST");
    expect(tooLong.message).toMatch(/^expiresInDays: an invitation lasts at most 30 days/);
  });

  it("refuses to invite the email of someone who is a member already", async () => {
    const { admin, workspaceId, members } = await invited();
    const err = await rejects(
      (await as(admin, workspaceId)).invitations.create({ role: "EDITOR", email: members[0]!.email }),
    );
    expect(err.code).toBe("CONFLICT");
    expect(err.message).toBe(`email: ${members[0]!.email} is already a member of this workspace, as admin`);
  });
});

describe("the link's page", () => {
  it("shows the workspace, the role, who invited and the state to anyone holding the link", async () => {
    const { token, workspaceId, admin } = await invited({ role: "EDITOR" });
    const workspace = await h.db.workspace.findUniqueOrThrow({ where: { id: workspaceId } });
    const preview = await (await anonymous()).invitations.preview({ token });
    expect(preview).toMatchObject({
      workspaceName: workspace.name,
      role: "EDITOR",
      invitedBy: admin.name,
      email: null,
      state: "pending",
    });
  });

  it("says a link it does not know is not known, and a malformed one is not a link", async () => {
    const api = await anonymous();
    const unknown = await rejects(api.invitations.preview({ token: "A".repeat(43) }));
    expect(unknown.code).toBe("NOT_FOUND");
    expect(unknown.message).toMatch(/^this invitation link is not known/);
    const malformed = await rejects(api.invitations.preview({ token: "short" }));
    expect(malformed.code).toBe("BAD_REQUEST");
  });
});

describe("accepting", () => {
  it("makes the user a member in the invitation's role, once", async () => {
    const { token, workspaceId } = await invited({ role: "EDITOR" });
    const joiner = await person("Joiner");
    const answer = await (await as(joiner)).invitations.accept({ token });
    expect(answer).toMatchObject({ workspaceId, role: "EDITOR" });
    expect(await roleOf(joiner.userId, workspaceId)).toBe("EDITOR");
    // The new member works in the workspace on their next request.
    await (await as(joiner, workspaceId)).pipelines.create({ name: "First in the team" });

    const late = await person("Late");
    const err = await rejects((await as(late)).invitations.accept({ token }));
    expect(err.code).toBe("PRECONDITION_FAILED");
    expect(err.message).toBe("this invitation was already used (each link works once): ask for a new one");
    expect(await roleOf(late.userId, workspaceId)).toBeNull();
    expect((await (await anonymous()).invitations.preview({ token })).state).toBe("used");
    const row = await h.db.invitation.findFirstOrThrow({ where: { workspaceId } });
    expect(row.acceptedById).toBe(joiner.userId);
  });

  it("refuses an expired invitation, saying when it expired", async () => {
    const { token, created, workspaceId, admin } = await invited();
    const past = new Date(Date.now() - 60_000);
    await h.db.invitation.update({ where: { id: created.id }, data: { expiresAt: past } });
    const joiner = await person("Joiner");
    const err = await rejects((await as(joiner)).invitations.accept({ token }));
    expect(err.code).toBe("PRECONDITION_FAILED");
    expect(err.message).toBe(
      `this invitation expired on ${past.toISOString().slice(0, 10)}: ask ${admin.name} for a new one`,
    );
    expect(await roleOf(joiner.userId, workspaceId)).toBeNull();
    expect((await (await anonymous()).invitations.preview({ token })).state).toBe("expired");
    // Listed as expired, so an admin sees it and can clear it.
    const list = await (await as(admin, workspaceId)).invitations.list();
    expect(list.map((i) => [i.id, i.expired])).toEqual([[created.id, true]]);
  });

  it("refuses a revoked invitation, and drops it from the list", async () => {
    const { token, created, workspaceId, admin } = await invited();
    const adminApi = await as(admin, workspaceId);
    await adminApi.invitations.revoke({ id: created.id });
    await adminApi.invitations.revoke({ id: created.id }); // again: nothing changes
    expect(await adminApi.invitations.list()).toEqual([]);
    const joiner = await person("Joiner");
    const err = await rejects((await as(joiner)).invitations.accept({ token }));
    expect(err.message).toBe("this invitation was revoked: ask an admin of the workspace for a new one");
    expect(await roleOf(joiner.userId, workspaceId)).toBeNull();
    expect((await (await anonymous()).invitations.preview({ token })).state).toBe("revoked");
  });

  it("accepts only the email an invitation names", async () => {
    const rightful = await person("Rightful");
    const { token, workspaceId } = await invited({ email: rightful.email.toUpperCase() });
    const other = await person("Other");
    const err = await rejects((await as(other)).invitations.accept({ token }));
    expect(err.code).toBe("FORBIDDEN");
    expect(err.message).toMatch(
      new RegExp(`^this invitation is for ${rightful.email}, and you are signed in as ${other.email}`),
    );
    expect(await roleOf(other.userId, workspaceId)).toBeNull();
    // The refusal did not use it up.
    await (await as(rightful)).invitations.accept({ token });
    expect(await roleOf(rightful.userId, workspaceId)).toBe("VIEWER");
  });

  it("refuses someone who is a member already, and leaves the invitation usable", async () => {
    const { token, workspaceId, members } = await invited({ role: "EDITOR" });
    const admin = members[0]!;
    const err = await rejects((await as(admin)).invitations.accept({ token }));
    expect(err.code).toBe("CONFLICT");
    expect(err.message).toMatch(/^you are already a member of .+, as admin$/);
    expect(await roleOf(admin.userId, workspaceId)).toBe("ADMIN");
    expect((await (await anonymous()).invitations.preview({ token })).state).toBe("pending");
  });

  it("refuses when its maker can no longer grant the role, as they were demoted or removed", async () => {
    const { token, workspaceId, owner, admin } = await invited({ role: "EDITOR" });
    await (await as(owner, workspaceId)).members.setRole({ userId: admin.userId, role: "EDITOR" });
    const joiner = await person("Joiner");
    const err = await rejects((await as(joiner)).invitations.accept({ token }));
    expect(err.code).toBe("PRECONDITION_FAILED");
    expect(err.message).toBe(
      `${admin.name}, who made this invitation, can no longer grant the editor role here: ask an admin of the workspace for a new one`,
    );
    expect(await roleOf(joiner.userId, workspaceId)).toBeNull();
  });

  it("needs a signed-in user", async () => {
    const { token } = await invited();
    const err = await rejects((await anonymous()).invitations.accept({ token }));
    expect(err.code).toBe("UNAUTHORIZED");
  });

  it("lets one of two people accepting one link at the same moment in, and refuses the other", async () => {
    for (let round = 0; round < 5; round++) {
      const { token, workspaceId } = await invited();
      const [a, b] = [await person("A"), await person("B")];
      const [apiA, apiB] = [await as(a), await as(b)];
      const results = await Promise.allSettled([
        apiA.invitations.accept({ token }),
        apiB.invitations.accept({ token }),
      ]);
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      const joined = [await roleOf(a.userId, workspaceId), await roleOf(b.userId, workspaceId)].filter(Boolean);
      expect(joined).toEqual(["VIEWER"]);
    }
  });

  it("refuses when revoked at the same moment as accepted, or lets the accept through first: never both", async () => {
    for (let round = 0; round < 5; round++) {
      const { token, created, workspaceId, admin } = await invited();
      const joiner: Person = await person("Joiner");
      const [adminApi, joinerApi] = [await as(admin, workspaceId), await as(joiner)];
      await Promise.allSettled([
        adminApi.invitations.revoke({ id: created.id }),
        joinerApi.invitations.accept({ token }),
      ]);
      const row = await h.db.invitation.findUniqueOrThrow({ where: { id: created.id } });
      const member = await roleOf(joiner.userId, workspaceId);
      expect(row.revokedAt !== null && row.acceptedAt !== null).toBe(false);
      expect(member !== null).toBe(row.acceptedAt !== null);
    }
  });
});
