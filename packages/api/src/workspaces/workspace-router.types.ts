import { z } from "zod";

const WorkspaceName = z.string().trim().min(1, "write a name").max(100, "use at most 100 characters");

export const CreateWorkspaceInput = z.strictObject({ name: WorkspaceName });
export const RenameWorkspaceInput = z.strictObject({ name: WorkspaceName });

/** Deleting asks for the workspace's name, typed again, as the form's confirmation. */
export const DeleteWorkspaceInput = z.strictObject({ confirmName: z.string().max(200) });

export const WorkspaceView = z.object({ id: z.string(), name: z.string() });
