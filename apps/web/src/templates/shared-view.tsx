"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import type { RouterOutputs } from "@/components/api-types";
import { errorCode, errorMessage } from "@/lib/errors";
import { signInPath } from "@/lib/return-path";
import { SharedRunView } from "@/share/shared-run-view";
import { useTRPC } from "@/trpc/react";
import { ParametersTable } from "./parameters-table";
import { TemplateHeader } from "./template-header";
import { TemplatePipeline } from "./template-pipeline";
import { UseTemplateDialog } from "./use-template-form";
import "./templates.css";

// What a share link opens, for anyone holding it: only the public shares.view is called here, so a visitor who is
// not signed in is never sent to sign in. A signed-in visitor may make a pipeline of a shared template in their own
// workspace (the use form reads that workspace's connections).

type SharedTemplate = Extract<RouterOutputs["shares"]["view"], { kind: "template" }>["template"];

export function SharedView({ token, signedIn }: { token: string; signedIn: boolean }) {
  const trpc = useTRPC();
  const view = useQuery(trpc.shares.view.queryOptions({ token }, { retry: false, staleTime: 60_000 }));

  if (view.isPending) {
    return (
      <main className="page">
        <p className="muted" aria-live="polite">
          Opening the link…
        </p>
      </main>
    );
  }
  if (view.isError) {
    const code = errorCode(view.error);
    const closed = code === "NOT_FOUND" || code === "BAD_REQUEST";
    return (
      <main className="page share-closed">
        <h1 className="page-title">{closed ? "This link does not open" : "Could not open the link"}</h1>
        <p className={closed ? undefined : "form-error"} role="alert">
          {closed
            ? "This link does not open: it was revoked, it expired, or it was never a link. Ask whoever sent it for a new one."
            : errorMessage(view.error)}
        </p>
      </main>
    );
  }
  const shared = view.data;
  if (shared.kind === "run") return <SharedRunView token={token} run={shared.run} />;
  return <SharedTemplateView token={token} template={shared.template} signedIn={signedIn} />;
}

function SharedTemplateView({
  token,
  template: t,
  signedIn,
}: {
  token: string;
  template: SharedTemplate;
  signedIn: boolean;
}) {
  const [using, setUsing] = useState(false);
  return (
    <main className="page template-page">
      <TemplateHeader
        template={t}
        kicker="Shared template"
        facts={[`v${t.version}`]}
        actions={
          signedIn ? (
            <button type="button" className="button button-primary" onClick={() => setUsing(true)}>
              Use in my workspace
            </button>
          ) : (
            <Link href={signInPath(`/share/${token}`)} className="button button-primary">
              Use in my workspace
            </Link>
          )
        }
        notice={!signedIn ? <p className="muted">Sign in (or create an account) to make a pipeline of it.</p> : null}
      />
      <section className="template-section" aria-labelledby="shared-graph-heading">
        <h2 id="shared-graph-heading" className="template-section-title">
          Pipeline
        </h2>
        <TemplatePipeline definition={t.definition} sample={t.sample} label={t.title} />
      </section>
      <section className="template-section" aria-labelledby="shared-parameters-heading">
        <h2 id="shared-parameters-heading" className="template-section-title">
          Parameters
        </h2>
        <ParametersTable parameters={t.definition.spec.parameters} />
      </section>
      {using && signedIn ? (
        <UseTemplateDialog template={t} shareToken={token} version={t.version} onClose={() => setUsing(false)} />
      ) : null}
    </main>
  );
}
