import type { AppRouter } from "@sluice/api/root";
import type { inferRouterOutputs } from "@trpc/server";

// What procedures answer, as the browser receives it (JSON: dates are strings), for props and state.
export type RouterOutputs = inferRouterOutputs<AppRouter>;

export type ConnectionItem = RouterOutputs["connections"]["list"][number];
export type ConnectionTypeItem = RouterOutputs["connections"]["types"][number];
export type ConnectionTestResult = RouterOutputs["connections"]["test"];
export type PreviewAnswer = RouterOutputs["pipelines"]["preview"];
export type PreviewNodeAnswer = PreviewAnswer["nodes"][string];
