import { type Role, roleAtLeast } from "@sluice/api/workspaces/roles";

// What the UI offers that a role may not do, the least role that may, and how to say so. Each action names the
// procedures behind it; workspace-actions.test.ts checks their rules in appRouter say the same, so a button is
// disabled exactly where the API would refuse (the API refuses regardless).

interface Action {
  needs: Role;
  /** "edit pipelines": completes "Viewers cannot …". */
  what: string;
  procedures: readonly string[];
}

export const ACTIONS = {
  editPipelines: {
    needs: "EDITOR",
    what: "edit pipelines",
    procedures: [
      "pipelines.create",
      "pipelines.saveVersion",
      "pipelines.rename",
      "pipelines.duplicate",
      "pipelines.delete",
    ],
  },
  previewDrafts: { needs: "EDITOR", what: "preview drafts", procedures: ["pipelines.preview"] },
  controlRuns: {
    needs: "EDITOR",
    what: "start, stop, pause or resume runs",
    procedures: ["runs.start", "runs.stop", "runs.pause", "runs.resume", "runs.restart"],
  },
  manageSchedules: {
    needs: "EDITOR",
    what: "change schedules",
    procedures: ["schedules.create", "schedules.update", "schedules.delete", "schedules.fireNow"],
  },
  manageAlerts: {
    needs: "EDITOR",
    what: "silence alerts or mark the inbox read",
    procedures: ["alerts.silence", "alerts.unsilence", "alerts.markRead"],
  },
  actOnDeadLetters: {
    needs: "EDITOR",
    what: "act on dead letters",
    procedures: [
      "runs.replayDeadLetters",
      "runs.discardDeadLetters",
      "runs.fixDeadLetters",
      "runs.fixDeadLetter",
      "runs.previewDeadLetterFix",
    ],
  },
  useTemplates: {
    needs: "EDITOR",
    what: "publish, use or upgrade templates",
    procedures: ["templates.publish", "templates.update", "templates.delete", "templates.use", "templates.upgrade"],
  },
  shareLinks: {
    needs: "EDITOR",
    what: "make or revoke share links",
    procedures: ["shares.createTemplateLink", "shares.createRunLink", "shares.revoke"],
  },
  useConnections: {
    needs: "EDITOR",
    what: "test or browse connections",
    procedures: ["connections.test", "connections.discover"],
  },
  runQueries: {
    needs: "EDITOR",
    what: "run queries",
    procedures: ["queries.run", "queries.cancel", "queries.schema"],
  },
  saveQueries: {
    needs: "EDITOR",
    what: "save, change or delete saved queries",
    procedures: ["savedQueries.create", "savedQueries.update", "savedQueries.delete"],
  },
  manageConnections: {
    needs: "ADMIN",
    what: "create, change or delete connections",
    procedures: ["connections.create", "connections.update", "connections.delete"],
  },
  manageMembers: {
    needs: "ADMIN",
    what: "invite, remove or change members",
    procedures: ["members.setRole", "members.remove", "invitations.create", "invitations.list", "invitations.revoke"],
  },
  manageIngestTokens: {
    needs: "EDITOR",
    what: "make or revoke ingest tokens",
    procedures: ["ingest.createToken", "ingest.revokeToken"],
  },
  manageWorkspaceTokens: {
    needs: "ADMIN",
    what: "see, make or revoke the workspace's API tokens",
    procedures: ["tokens.workspace", "tokens.createWorkspace", "tokens.revokeWorkspace"],
  },
  renameWorkspace: { needs: "ADMIN", what: "rename the workspace", procedures: ["workspaces.rename"] },
  readAuditLog: {
    needs: "ADMIN",
    what: "read or export the audit log",
    procedures: ["audit.list", "audit.exportPlan"],
  },
  ownWorkspace: {
    needs: "OWNER",
    what: "delete the workspace or hand it over",
    procedures: ["workspaces.delete", "members.transferOwnership"],
  },
} as const satisfies Record<string, Action>;

export type WorkspaceAction = keyof typeof ACTIONS;

const PLURAL: Record<Role, string> = { VIEWER: "Viewers", EDITOR: "Editors", ADMIN: "Admins", OWNER: "Owners" };

export function allows(role: Role | null, action: WorkspaceAction): boolean {
  return role !== null && roleAtLeast(role, ACTIONS[action].needs);
}

/** Why `role` may not do `action`, for a disabled control's title; undefined when it may. */
export function refusalText(role: Role | null, action: WorkspaceAction): string | undefined {
  if (allows(role, action)) return undefined;
  const { needs, what } = ACTIONS[action];
  if (role === null) return `Only members of this workspace can ${what}.`;
  if (needs === "OWNER") return `Only owners can ${what}; ask an owner.`;
  return `${PLURAL[role]} cannot ${what}; ask an admin for the ${needs.toLowerCase()} role.`;
}
