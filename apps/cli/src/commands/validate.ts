import { catalog } from "@sluice/nodes/catalog";
import { hasErrors, type ValidationIssue } from "@sluice/pipeline/issues";
import { validate } from "@sluice/pipeline/validate";
import { EXIT, type Output, readPipelineFile } from "../io";

export function formatIssueLine(file: string, i: ValidationIssue): string {
  const where = [
    i.nodeId !== undefined ? `node ${i.nodeId}` : i.edgeIndex !== undefined ? `edge ${i.edgeIndex}` : undefined,
    i.path && i.path.length > 0 ? i.path.join(".") : undefined,
  ]
    .filter(Boolean)
    .join(" ");
  const pos = i.position ? ` (expression ${i.position.line}:${i.position.column})` : "";
  const hint = i.suggestion ? `; did you mean "${i.suggestion}"?` : "";
  const level = i.severity === "warning" ? "warning: " : "";
  return `${file}: ${where ? `${where}${pos}: ` : ""}${level}${i.message}${hint}`;
}

export async function validateCommand(file: string, json: boolean, io: Output): Promise<number> {
  const read = await readPipelineFile(file);
  if (!read.ok) {
    io.err(read.message);
    return EXIT.unreadable;
  }
  const { issues } = validate(read.value, catalog);
  if (json) io.out(JSON.stringify({ file, valid: !hasErrors(issues), issues }, null, 2));
  else {
    for (const i of issues) (i.severity === "error" ? io.err : io.out)(formatIssueLine(file, i));
    if (!hasErrors(issues))
      io.out(
        `${file}: valid${issues.length > 0 ? ` (${issues.length} warning${issues.length === 1 ? "" : "s"})` : ""}`,
      );
  }
  return hasErrors(issues) ? EXIT.invalid : EXIT.ok;
}
