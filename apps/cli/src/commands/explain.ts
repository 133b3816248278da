import { catalog } from "@sluice/nodes/catalog";
import { hasErrors } from "@sluice/pipeline/issues";
import { formatPlan, plan } from "@sluice/pipeline/plan";
import { validate } from "@sluice/pipeline/validate";
import { EXIT, type Output, readPipelineFile } from "../io";
import { formatIssueLine } from "./validate";

export async function explainCommand(file: string, io: Output): Promise<number> {
  const read = await readPipelineFile(file);
  if (!read.ok) {
    io.err(read.message);
    return EXIT.unreadable;
  }
  const checked = validate(read.value, catalog);
  if (hasErrors(checked.issues) || !checked.definition) {
    for (const i of checked.issues) io.err(formatIssueLine(file, i));
    return EXIT.invalid;
  }
  io.out(formatPlan(plan(checked.definition, catalog, checked.configs)));
  return EXIT.ok;
}
