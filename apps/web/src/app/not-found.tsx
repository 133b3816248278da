import Link from "next/link";

export default function NotFound() {
  return (
    <main className="page page-narrow">
      <h1 className="page-title">Page not found</h1>
      <p className="page-subtitle">There is nothing at this address.</p>
      <div className="page-actions">
        <Link href="/pipelines" className="button button-primary">
          Go to pipelines
        </Link>
      </div>
    </main>
  );
}
