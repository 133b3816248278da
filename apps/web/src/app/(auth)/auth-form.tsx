"use client";

import { useMutation } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";
import { TextField } from "@/components/text-field";
import { errorCode, formErrors } from "@/lib/errors";
import { useTRPC } from "@/trpc/react";

type Mode = "signin" | "signup";

/** The other form, keeping where to go afterwards. */
function withNext(page: string, next: string): string {
  return next === "/pipelines" ? page : `${page}?next=${encodeURIComponent(next)}`;
}

const FIELDS = ["email", "name", "password"] as const;

export function AuthForm({
  mode,
  next,
}: {
  mode: Mode;
  /** Where to go once signed in: a path of this site, already checked by safeReturnPath. */
  next: string;
}) {
  const trpc = useTRPC();
  const router = useRouter();
  const [values, setValues] = useState({ email: "", name: "", password: "" });
  const onSuccess = () => {
    router.replace(next);
    router.refresh();
  };
  const signIn = useMutation(trpc.auth.signIn.mutationOptions({ onSuccess }));
  // Sign-up answers alike whether or not the email already had an account (so it tells no one which emails do), and
  // opens no session: the form signs in next with the same details.
  const signUp = useMutation(
    trpc.auth.signUp.mutationOptions({
      onSuccess: (_result, input) => signIn.mutate({ email: input.email, password: input.password }),
    }),
  );
  const failed = mode === "signin" ? signIn.error : (signUp.error ?? signIn.error);
  const errors = formErrors(failed, FIELDS);
  // After a sign-up, a refused sign-in means the email had an account already, with another password.
  const formError =
    mode === "signup" && !signUp.error && errorCode(signIn.error) === "UNAUTHORIZED"
      ? "This email cannot be signed in with this password. If you already have an account, sign in with its password instead."
      : errors.form;
  const busy = signUp.isPending || signIn.isPending || signIn.isSuccess;

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy) return;
    signIn.reset();
    if (mode === "signin") signIn.mutate({ email: values.email, password: values.password });
    else signUp.mutate(values);
  };
  const set = (name: keyof typeof values) => (event: { target: { value: string } }) =>
    setValues((v) => ({ ...v, [name]: event.target.value }));

  return (
    <form className="auth-form" onSubmit={submit} noValidate aria-labelledby="auth-title">
      <h1 id="auth-title" className="auth-title">
        {mode === "signin" ? "Sign in to Sluice" : "Create your account"}
      </h1>
      {formError ? (
        <p className="form-error" role="alert">
          {formError}
        </p>
      ) : null}
      {mode === "signup" ? (
        <TextField
          label="Name"
          name="name"
          autoComplete="name"
          value={values.name}
          onChange={set("name")}
          error={errors.fields.name}
          required
        />
      ) : null}
      <TextField
        label="Email"
        name="email"
        type="email"
        autoComplete="email"
        value={values.email}
        onChange={set("email")}
        error={errors.fields.email}
        required
      />
      <TextField
        label="Password"
        name="password"
        type="password"
        autoComplete={mode === "signin" ? "current-password" : "new-password"}
        value={values.password}
        onChange={set("password")}
        error={errors.fields.password}
        hint={mode === "signup" ? "At least 12 characters, and not a common password." : undefined}
        required
      />
      <button type="submit" className="button button-primary button-block" disabled={busy}>
        {busy ? "Please wait…" : mode === "signin" ? "Sign in" : "Create account"}
      </button>
      <p className="auth-switch">
        {mode === "signin" ? (
          <>
            New to Sluice? <Link href={withNext("/signup", next)}>Create an account</Link>
          </>
        ) : (
          <>
            Already have an account? <Link href={withNext("/signin", next)}>Sign in</Link>
          </>
        )}
      </p>
    </form>
  );
}
