"use client";

import Link from "next/link";

// Anything a page or layout throws that nothing else caught: usually Postgres or Redis being unreachable.
export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <main className="page page-narrow">
      <h1 className="page-title">Something went wrong</h1>
      <p className="page-subtitle">
        The server could not finish this request. If it keeps happening, check that PostgreSQL and Redis are running.
      </p>
      {error.digest ? <p className="muted">Reference: {error.digest}</p> : null}
      <div className="page-actions">
        <button type="button" className="button button-primary" onClick={reset}>
          Try again
        </button>
        <Link href="/pipelines" className="button">
          Go to pipelines
        </Link>
      </div>
    </main>
  );
}
