import { z } from "zod";
import { Email } from "../auth/auth-router.types";
import { RoleInput } from "./member-router.types";

const INVITATION_DEFAULT_DAYS = 7;
const INVITATION_MAX_DAYS = 30;

export const CreateInvitationInput = z.strictObject({
  role: RoleInput,
  /** When given, only the signed-in user with this email may accept. */
  email: Email.optional(),
  expiresInDays: z
    .int()
    .min(1, "an invitation lasts at least a day")
    .max(INVITATION_MAX_DAYS, `an invitation lasts at most ${INVITATION_MAX_DAYS} days`)
    .default(INVITATION_DEFAULT_DAYS),
});

/** The random part of an invitation link: 32 bytes, base64url. */
const InvitationToken = z
  .string()
  .regex(/^[A-Za-z0-9_-]{43}$/, "this is not the token of an invitation link: copy the whole link");

export const InvitationTokenInput = z.strictObject({ token: InvitationToken });
export const InvitationIdInput = z.strictObject({ id: z.string().min(1).max(64) });

/** What the admin who made the invitation sees once: the token is not stored and cannot be shown again. */
export const CreatedInvitation = z.object({
  id: z.string(),
  token: z.string(),
  role: RoleInput,
  email: z.string().nullable(),
  expiresAt: z.date(),
});

export const InvitationView = z.object({
  id: z.string(),
  role: RoleInput,
  email: z.string().nullable(),
  invitedBy: z.string(),
  createdAt: z.date(),
  expiresAt: z.date(),
  /** Not used and not revoked, but past its expiry: listed so it can be seen and cleared. */
  expired: z.boolean(),
});

export const InvitationState = z.enum(["pending", "expired", "used", "revoked"]);
export type InvitationState = z.infer<typeof InvitationState>;

/** What the link's page shows to whoever holds the link, signed in or not. */
export const InvitationPreview = z.object({
  workspaceName: z.string(),
  role: RoleInput,
  invitedBy: z.string(),
  email: z.string().nullable(),
  expiresAt: z.date(),
  state: InvitationState,
});

export const AcceptedInvitation = z.object({ workspaceId: z.string(), workspaceName: z.string(), role: RoleInput });
