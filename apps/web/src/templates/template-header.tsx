import { Fragment, type ReactNode } from "react";
import type { RouterOutputs } from "@/components/api-types";

// What a template says of itself, as its own page and a shared link's page head it, and the marks a gallery card
// shows too.

type TemplateItem = RouterOutputs["templates"]["list"][number];
type TemplateSummary = Pick<
  TemplateItem,
  "title" | "builtIn" | "author" | "hasSample" | "description" | "tags" | "connectors"
>;

/**
 * The title, who made it, `facts` (visibility, version, uses: what the page has to say), whether it has sample data,
 * then its description and marks. `notice` stands between the heading and the description.
 */
export function TemplateHeader({
  template: t,
  kicker,
  facts,
  actions,
  notice,
}: {
  template: TemplateSummary;
  kicker?: string;
  facts: readonly string[];
  actions: ReactNode;
  notice?: ReactNode;
}) {
  return (
    <>
      <div className="page-header">
        <div>
          {kicker ? <p className="template-shared-kicker">{kicker}</p> : null}
          <h1 className="page-title">{t.title}</h1>
          <p className="template-meta">
            <span>{t.builtIn ? "Built in" : `By ${t.author ?? "an unknown author"}`}</span>
            {facts.map((fact) => (
              <Fragment key={fact}>
                <span aria-hidden="true"> · </span>
                <span>{fact}</span>
              </Fragment>
            ))}
            {t.hasSample ? <SampleBadge /> : null}
          </p>
        </div>
        <div className="template-actions">{actions}</div>
      </div>
      {notice}
      {t.description ? <p className="template-description">{t.description}</p> : null}
      <TemplateMarks template={t} />
    </>
  );
}

/** The connectors a template uses and its tags, after a "Sample data" badge where `sample` asks for one. */
export function TemplateMarks({ template: t, sample = false }: { template: TemplateSummary; sample?: boolean }) {
  const withSample = sample && t.hasSample;
  if (!withSample && t.connectors.length === 0 && t.tags.length === 0) return null;
  return (
    <div className="template-card-marks">
      {withSample ? <SampleBadge /> : null}
      {t.connectors.map((c) => (
        <span key={c} className="template-badge template-badge-connector" title={`Uses a ${c} connection`}>
          {c}
        </span>
      ))}
      {t.tags.map((tag) => (
        <span key={tag} className="template-tag">
          #{tag}
        </span>
      ))}
    </div>
  );
}

function SampleBadge() {
  return <span className="template-badge template-badge-sample">Sample data</span>;
}

/** "1 use", "3 uses". */
export function usesLabel(uses: number): string {
  return `${uses} ${uses === 1 ? "use" : "uses"}`;
}
