import type { PipelineParameter } from "@sluice/pipeline/definition";

/** A template's parameters as a table: what each is, its type (a slot's connector type), default and whether needed. */
export function ParametersTable({ parameters }: { parameters: readonly PipelineParameter[] }) {
  if (parameters.length === 0) return <p className="muted">This template has no parameters: it runs as it is.</p>;
  return (
    <div className="table-card">
      <table className="table template-parameters" aria-label="Parameters">
        <thead>
          <tr>
            <th scope="col">Parameter</th>
            <th scope="col">Type</th>
            <th scope="col">Default</th>
            <th scope="col">Required</th>
            <th scope="col">Description</th>
          </tr>
        </thead>
        <tbody>
          {parameters.map((p) => (
            <tr key={p.name}>
              <td>
                {p.label ? <div>{p.label}</div> : null}
                <code className={p.label ? "table-sub" : undefined}>{p.name}</code>
              </td>
              <td>
                {p.type === "connection" ? (
                  <>connection{p.connectorType ? <span className="template-badge">{p.connectorType}</span> : null}</>
                ) : p.type === "choice" && p.choices ? (
                  <span title={p.choices.join(", ")}>choice of {p.choices.length}</span>
                ) : (
                  p.type
                )}
              </td>
              <td>
                {p.default === undefined ? <span className="muted">none</span> : <code>{String(p.default)}</code>}
              </td>
              <td>{p.required ? "Yes" : <span className="muted">No</span>}</td>
              <td className="template-parameter-description">{p.description ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
