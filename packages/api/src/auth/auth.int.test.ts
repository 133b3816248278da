import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, createApiHarness, rejects } from "../../test/api-harness";

let h: ApiHarness;
beforeAll(async () => {
  h = await createApiHarness("auth");
});
afterAll(async () => {
  await h?.close();
});

describe("accounts", () => {
  it("signs up with a hashed password, an own workspace and an HttpOnly session cookie", async () => {
    const { api, headers } = await h.caller();
    await api.auth.signUp({ email: "  Grace@Example.com ", name: "Grace", password: "a long enough password" });
    const cookie = headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^sluice_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Expires=/);
    const user = await h.db.user.findUniqueOrThrow({
      where: { email: "grace@example.com" },
      include: { memberships: true },
    });
    expect(user.passwordHash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(user.passwordHash).not.toContain("a long enough password");
    expect(user.memberships).toEqual([expect.objectContaining({ role: "OWNER" })]);
    const session = await h.db.session.findFirstOrThrow({ where: { userId: user.id } });
    expect(cookie).not.toContain(session.id); // only the hash of the token is stored
    const me = await (await h.caller(cookie.split(";")[0])).api.auth.me();
    expect(me?.user.email).toBe("grace@example.com");
    expect(me?.workspaces[0]?.role).toBe("OWNER");
  });

  it("refuses a second account for the same email, whatever its case", async () => {
    const { email } = await h.signUp("Linus");
    const err = await rejects(
      (await h.caller()).api.auth.signUp({ email: email.toUpperCase(), name: "X", password: "another password" }),
    );
    expect(err.code).toBe("CONFLICT");
    expect(err.message).toContain("email");
    expect(await h.db.user.count({ where: { email } })).toBe(1);
  });

  it("names the bad field and writes nothing on invalid input", async () => {
    const before = await h.db.user.count();
    const err = await rejects(
      (await h.caller()).api.auth.signUp({ email: "not-an-email", name: "", password: "short" }),
    );
    expect(err.code).toBe("BAD_REQUEST");
    expect(err.message).toMatch(/email/);
    expect(err.message).toMatch(/password: use at least 10 characters/);
    expect(await h.db.user.count()).toBe(before);
  });

  it("signs in with the right password only, and signs out for good", async () => {
    const { email } = await h.signUp("Barbara");
    const wrong = await rejects((await h.caller()).api.auth.signIn({ email, password: "wrong password!" }));
    expect(wrong.code).toBe("UNAUTHORIZED");
    const unknown = await rejects(
      (await h.caller()).api.auth.signIn({ email: "nobody@example.com", password: "whatever it is" }),
    );
    expect(unknown.message).toBe(wrong.message);
    const { api, headers } = await h.caller();
    await api.auth.signIn({ email, password: "correct horse battery" });
    const cookie = (headers.get("set-cookie") ?? "").split(";")[0]!;
    const signedIn = await h.caller(cookie);
    expect((await signedIn.api.auth.me())?.user.email).toBe(email);
    await signedIn.api.auth.signOut();
    expect(signedIn.headers.get("set-cookie")).toContain("Max-Age=0");
    expect(await (await h.caller(cookie)).api.auth.me()).toBeNull();
    const err = await rejects((await h.caller(cookie)).api.pipelines.list());
    expect(err.code).toBe("UNAUTHORIZED");
  });

  it("ignores forged and malformed session cookies", async () => {
    for (const cookie of ["sluice_session=forged-token-that-is-long-enough", "sluice_session=", "sluice_session=%%%"]) {
      expect(await (await h.caller(cookie)).api.auth.me()).toBeNull();
    }
  });
});
