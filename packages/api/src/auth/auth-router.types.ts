import { z } from "zod";
import { PASSWORD_MAX, passwordProblem } from "./password-rules";

export const Email = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.email("write an email address like ada@example.com").max(254));

export const SignUpInput = z.strictObject({
  email: Email,
  name: z.string().trim().min(1, "write your name").max(100),
  password: z.string().superRefine((password, ctx) => {
    const problem = passwordProblem(password);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  }),
});

export const SignInInput = z.strictObject({
  email: Email,
  password: z.string().min(1, "write your password").max(PASSWORD_MAX, `use at most ${PASSWORD_MAX} characters`),
});

/** Sign-up answers the same whether the email was free or taken: the form then signs in with the same details. */
export const SignUpResult = z.object({ ok: z.literal(true), message: z.string() });

export const Me = z.object({
  user: z.object({ id: z.string(), email: z.string(), name: z.string() }),
  workspaces: z.array(
    z.object({ id: z.string(), name: z.string(), role: z.enum(["OWNER", "ADMIN", "EDITOR", "VIEWER"]) }),
  ),
});
export type Me = z.infer<typeof Me>;
