import { randomBytes } from "node:crypto";
import type { ApiHarness } from "@sluice/test-kit/api-harness";
import { createSession, SESSION_COOKIE } from "../../auth/session";
import type { Role } from "../roles";
import { createOwnedWorkspace } from "../workspace-service";

// People and shared workspaces for the membership tests, made directly in the database (sign-up's password hashing
// is not what they test), and callers that address a given workspace as the web app does.

export interface Person {
  userId: string;
  email: string;
  name: string;
  cookie: string;
}

/** `harness` is read at each call: test files build theirs in beforeAll. */
export function teams(harness: () => ApiHarness) {
  /** A user with a workspace of their own (as sign-up gives) and a session. */
  async function person(name: string): Promise<Person> {
    const email = `${name.toLowerCase()}-${randomBytes(4).toString("hex")}@example.com`;
    const user = await harness().db.user.create({
      data: { email, name, passwordHash: "unused" },
      select: { id: true },
    });
    await harness().db.$transaction((tx) => createOwnedWorkspace(tx, user.id, `${name}'s workspace`));
    const { token } = await createSession(harness().db, user.id, "membership tests");
    return { userId: user.id, email, name, cookie: `${SESSION_COOKIE}=${token}` };
  }

  return {
    person,
    /** A workspace owned by a fresh user, with a fresh member in each role given, in that order. */
    async team(...roles: Role[]): Promise<{ workspaceId: string; owner: Person; members: Person[] }> {
      const owner = await person("Owner");
      const { workspaceId } = await harness().db.membership.findFirstOrThrow({
        where: { userId: owner.userId },
        select: { workspaceId: true },
      });
      const members: Person[] = [];
      for (const role of roles) {
        const p = await person(role[0] + role.slice(1).toLowerCase());
        await harness().db.membership.create({ data: { userId: p.userId, workspaceId, role } });
        members.push(p);
      }
      return { workspaceId, owner, members };
    },
    /** A caller acting as `p` in `workspaceId` (in their own first workspace without one); a new request each time. */
    async as(p: Person, workspaceId?: string) {
      return (await harness().caller(p.cookie, workspaceId)).api;
    },
    async roleOf(userId: string, workspaceId: string): Promise<Role | null> {
      const m = await harness().db.membership.findUnique({ where: { userId_workspaceId: { userId, workspaceId } } });
      return m?.role ?? null;
    },
  };
}
