import type { Db } from "@sluice/db/client";
import { TRPCError } from "@trpc/server";
import type { z } from "zod";
import { createOwnedWorkspace } from "../workspaces/workspace-service";
import type { SignInInput, SignUpInput } from "./auth-router.types";
import { DUMMY_HASH, hashPassword, verifyPassword } from "./password";

/**
 * Creates the user and their own workspace (as owner) in one transaction. When the email already has an account,
 * nothing changes and the answer is the same: the password is hashed and the insert tried either way, so neither the
 * result nor the time taken tells whether the email was known.
 */
export async function signUp(db: Db, input: z.output<typeof SignUpInput>): Promise<void> {
  const passwordHash = await hashPassword(input.password);
  try {
    await db.$transaction(async (tx) => {
      const created = await tx.user.create({ data: { email: input.email, name: input.name, passwordHash } });
      await createOwnedWorkspace(tx, created.id, `${input.name}'s workspace`);
    });
  } catch (err) {
    if ((err as { code?: string }).code === "P2002") return;
    throw err;
  }
}

export async function signIn(db: Db, input: z.output<typeof SignInInput>): Promise<{ userId: string }> {
  const user = await db.user.findUnique({ where: { email: input.email }, select: { id: true, passwordHash: true } });
  const ok = await verifyPassword(input.password, user?.passwordHash ?? DUMMY_HASH);
  if (!user || !ok) throw new TRPCError({ code: "UNAUTHORIZED", message: "the email or the password is wrong" });
  return { userId: user.id };
}
