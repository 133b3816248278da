import { type ApiHarness, createApiHarness, rejects } from "@sluice/test-kit/api-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let h: ApiHarness;
beforeAll(async () => {
  h = await createApiHarness("auth");
});
afterAll(async () => {
  await h?.close();
});

describe("accounts", () => {
  it("signs up with a hashed password and an own workspace; signing in gives an HttpOnly session cookie", async () => {
    const { api, headers } = await h.caller();
    const answer = await api.auth.signUp({
      email: "  Grace@Example.com ",
      name: "Grace",
      password: "a long enough password",
    });
    expect(answer.ok).toBe(true);
    expect(headers.get("set-cookie")).toBeNull(); // no session from sign-up, whether the email was new or not
    await api.auth.signIn({ email: "grace@example.com", password: "a long enough password" });
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

  it("answers a sign-up for a known email exactly like one for a new email, and changes nothing", async () => {
    const { email } = await h.signUp("Linus");
    const before = await h.db.user.findUniqueOrThrow({ where: { email } });
    const users = await h.db.user.count();
    const workspaces = await h.db.workspace.count();
    const known = await h.caller();
    const taken = await known.api.auth.signUp({
      email: email.toUpperCase(),
      name: "Mallory",
      password: "another long password",
    });
    const fresh = await h.caller();
    const free = await fresh.api.auth.signUp({
      email: `new-${email}`,
      name: "Mallory",
      password: "another long password",
    });
    expect(taken).toEqual(free);
    expect([...known.headers]).toEqual([...fresh.headers]);
    const after = await h.db.user.findUniqueOrThrow({ where: { email } });
    expect(after).toEqual(before); // same name, same password hash
    expect(await h.db.user.count()).toBe(users + 1); // only the new email got an account
    expect(await h.db.workspace.count()).toBe(workspaces + 1);
    // The owner still signs in with their own password; the sign-up's password opens nothing.
    await (await h.caller()).api.auth.signIn({ email, password: "correct horse battery" });
    const wrong = await rejects((await h.caller()).api.auth.signIn({ email, password: "another long password" }));
    expect(wrong.code).toBe("UNAUTHORIZED");
  });

  it("refuses blank, short, overlong and common passwords with a sentence on the password field", async () => {
    const before = await h.db.user.count();
    const cases: [string, RegExp][] = [
      [" ".repeat(12), /^password: write a password, not only spaces$/],
      ["\t \n ".repeat(5), /^password: write a password, not only spaces$/],
      ["password1234", /^password: this password is among the most common ones/],
      ["PASSWORD1234", /^password: this password is among the most common ones/],
      ["qwertyuiop123", /^password: this password is among the most common ones/],
      ["abababababababab", /^password: use more than two different characters/],
      ["eleven char", /^password: use at least 12 characters$/],
      [`${"x".repeat(250)}yz1234!`, /^password: use at most 256 characters$/],
    ];
    for (const [password, message] of cases) {
      const err = await rejects(
        (await h.caller()).api.auth.signUp({ email: "rules@example.com", name: "Rules", password }),
      );
      expect(err.code, JSON.stringify(password)).toBe("BAD_REQUEST");
      expect(err.message, JSON.stringify(password)).toMatch(message);
    }
    expect(await h.db.user.count()).toBe(before);
    // Twelve characters that are not on the list are fine.
    await (await h.caller()).api.auth.signUp({ email: "rules@example.com", name: "Rules", password: "tide pool 42" });
    expect(await h.db.user.count()).toBe(before + 1);
  });

  it("names the bad field and writes nothing on invalid input", async () => {
    const before = await h.db.user.count();
    const err = await rejects(
      (await h.caller()).api.auth.signUp({ email: "not-an-email", name: "", password: "short" }),
    );
    expect(err.code).toBe("BAD_REQUEST");
    expect(err.message).toMatch(/email/);
    expect(err.message).toMatch(/password: use at least 12 characters/);
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
