import type { RouterOutputs } from "@/components/api-types";
import { useEditorRuntime } from "@/editor/use-editor-runtime";
import { errorMessage } from "@/lib/errors";
import { ReadOnlyCanvas } from "./read-only-canvas";

type TemplateView = RouterOutputs["templates"]["get"];

/** A template's graph drawn read only once the node catalog is in, and what its sample data is. */
export function TemplatePipeline({
  definition,
  sample,
  label,
}: {
  definition: TemplateView["definition"];
  sample: TemplateView["sample"];
  label: string;
}) {
  const runtime = useEditorRuntime();
  return (
    <>
      {runtime.data ? (
        <ReadOnlyCanvas definition={definition} catalog={runtime.data.catalog} label={label} />
      ) : runtime.isError ? (
        <p className="form-error" role="alert">
          Could not load the node catalog: {errorMessage(runtime.error)}
        </p>
      ) : (
        <p className="muted">Loading the node catalog…</p>
      )}
      {sample?.description ? (
        <p className="muted">
          <strong>Sample data:</strong> {sample.description}
        </p>
      ) : null}
    </>
  );
}
