import { z } from "zod";
import { adminProcedure, createTRPCRouter, editorProcedure, workspaceProcedure } from "../trpc";
import { discoverConnection, testConnection } from "./connection-probe";
import {
  ConnectionId,
  ConnectionTestView,
  ConnectionTypeView,
  ConnectionView,
  CreateConnectionInput,
  DeleteConnectionInput,
  DiscoverConnectionInput,
  DiscoveryView,
  TestConnectionInput,
  UpdateConnectionInput,
} from "./connection-router.types";
import {
  createConnection,
  deleteConnection,
  getConnection,
  listConnections,
  listConnectionTypes,
  updateConnection,
} from "./connection-service";

export const connectionRouter = createTRPCRouter({
  /** The connection types this installation knows, with the JSON Schema of their forms. */
  types: workspaceProcedure
    .output(z.array(ConnectionTypeView))
    .query(({ ctx }) => listConnectionTypes(ctx.connectionTypes, ctx.connectionRuntimes)),
  list: workspaceProcedure.output(z.array(ConnectionView)).query(({ ctx }) => listConnections(ctx, ctx.workspaceId)),
  get: workspaceProcedure
    .input(z.strictObject({ id: ConnectionId }))
    .output(ConnectionView)
    .query(({ ctx, input }) => getConnection(ctx, ctx.workspaceId, input.id)),
  /**
   * Making, changing and deleting connections is for admins: a connection holds credentials to another system, which
   * editors use in pipelines without holding them.
   */
  create: adminProcedure
    .input(CreateConnectionInput)
    .output(z.object({ id: z.string() }))
    .mutation(({ ctx, input }) =>
      createConnection(ctx, { workspaceId: ctx.workspaceId, userId: ctx.session.user.id }, input),
    ),
  update: adminProcedure
    .input(UpdateConnectionInput)
    .output(ConnectionView)
    .mutation(({ ctx, input }) => updateConnection(ctx, ctx.workspaceId, input)),
  delete: adminProcedure.input(DeleteConnectionInput).mutation(async ({ ctx, input }) => {
    await deleteConnection(ctx, ctx.workspaceId, input);
    return { ok: true as const };
  }),
  /**
   * Tries the connection and says in a sentence whether it works. It opens a connection to a live system (and a
   * draft may point stored secrets at another host), so it takes the editor role, as discovery and preview do.
   */
  test: editorProcedure
    .input(TestConnectionInput)
    .output(ConnectionTestView)
    .mutation(({ ctx, input }) => testConnection(ctx, ctx.workspaceId, input)),
  /**
   * What is behind the connection (tables, streams, …), or one object's fields and a few sample records. It queries
   * the live system with the connection's credentials: editors only.
   */
  discover: editorProcedure
    .input(DiscoverConnectionInput)
    .output(DiscoveryView)
    .query(({ ctx, input }) => discoverConnection(ctx, ctx.workspaceId, input)),
});
