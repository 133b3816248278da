import { NewWorkspaceForm } from "@/components/new-workspace-form";

/** What a signed-in user without a workspace sees instead of any page: a way to make one, and how to join one. */
export function NoWorkspace() {
  return (
    <main className="page page-narrow">
      <h1 className="page-title">You are in no workspace</h1>
      <p className="page-subtitle">
        Pipelines, runs and connections live in workspaces. Make one of your own, or open an invitation link an admin of
        another workspace sent you.
      </p>
      <div className="card">
        <NewWorkspaceForm />
      </div>
    </main>
  );
}
