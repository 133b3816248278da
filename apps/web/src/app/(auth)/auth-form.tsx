"use client";

import { useMutation } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";
import { TextField } from "@/components/text-field";
import { formErrors } from "@/lib/errors";
import { useTRPC } from "@/trpc/react";

type Mode = "signin" | "signup";

const FIELDS = ["email", "name", "password"] as const;

export function AuthForm({ mode }: { mode: Mode }) {
  const trpc = useTRPC();
  const router = useRouter();
  const [values, setValues] = useState({ email: "", name: "", password: "" });
  const onSuccess = () => {
    router.replace("/pipelines");
    router.refresh();
  };
  const signIn = useMutation(trpc.auth.signIn.mutationOptions({ onSuccess }));
  const signUp = useMutation(trpc.auth.signUp.mutationOptions({ onSuccess }));
  const mutation = mode === "signin" ? signIn : signUp;
  const errors = formErrors(mutation.error, FIELDS);
  const busy = mutation.isPending || mutation.isSuccess;

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy) return;
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
      {errors.form ? (
        <p className="form-error" role="alert">
          {errors.form}
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
        hint={mode === "signup" ? "At least 10 characters." : undefined}
        required
      />
      <button type="submit" className="button button-primary button-block" disabled={busy}>
        {busy ? "Please wait…" : mode === "signin" ? "Sign in" : "Create account"}
      </button>
      <p className="auth-switch">
        {mode === "signin" ? (
          <>
            New to Sluice? <Link href="/signup">Create an account</Link>
          </>
        ) : (
          <>
            Already have an account? <Link href="/signin">Sign in</Link>
          </>
        )}
      </p>
    </form>
  );
}
