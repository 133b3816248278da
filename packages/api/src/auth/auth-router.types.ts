import { z } from "zod";

export const Email = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.email("write an email address like ada@example.com").max(254));

export const SignUpInput = z.strictObject({
  email: Email,
  name: z.string().trim().min(1, "write your name").max(100),
  password: z.string().min(10, "use at least 10 characters").max(200, "use at most 200 characters"),
});

export const SignInInput = z.strictObject({
  email: Email,
  password: z.string().min(1, "write your password").max(200),
});

export const Me = z.object({
  user: z.object({ id: z.string(), email: z.string(), name: z.string() }),
  workspaces: z.array(
    z.object({ id: z.string(), name: z.string(), role: z.enum(["OWNER", "ADMIN", "EDITOR", "VIEWER"]) }),
  ),
});
export type Me = z.infer<typeof Me>;
