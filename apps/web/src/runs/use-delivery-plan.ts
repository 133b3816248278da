"use client";

import type { PipelineDefinition } from "@sluice/pipeline/definition";
import type { DeliveryPlan } from "@sluice/pipeline/plan";
import { useMemo } from "react";
import { useEditorRuntime } from "@/editor/use-editor-runtime";

/** The delivery plan of a saved definition (a run's version), or null while it loads or if it does not validate. */
export function useDeliveryPlan(definition: PipelineDefinition | undefined): DeliveryPlan | null {
  const rt = useEditorRuntime().data;
  return useMemo(() => {
    if (!rt || !definition) return null;
    const checked = rt.createValidator(rt.catalog, 100)(definition);
    return checked.definition ? rt.planDelivery(checked.definition, rt.catalog, checked.configs) : null;
  }, [rt, definition]);
}
