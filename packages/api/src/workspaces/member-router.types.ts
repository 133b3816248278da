import { z } from "zod";
import { ROLES } from "./roles";

export const RoleInput = z.enum(ROLES, "the role is one of viewer, editor, admin or owner");
const UserId = z.string().min(1).max(64);

export const MemberInput = z.strictObject({ userId: UserId });
export const SetRoleInput = z.strictObject({ userId: UserId, role: RoleInput });

export const MemberView = z.object({
  userId: z.string(),
  name: z.string(),
  email: z.string(),
  role: RoleInput,
  joinedAt: z.date(),
  /** The caller's own row. */
  you: z.boolean(),
});
export type MemberView = z.infer<typeof MemberView>;

export const MemberChange = z.object({ userId: z.string(), role: RoleInput });
