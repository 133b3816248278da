import { TRPCError } from "@trpc/server";
import { z } from "zod";

/**
 * A BAD_REQUEST about one input field, shaped like the errors zod input validation produces: the message starts with
 * the field, and the zod issue in the cause puts the field into the response's `data.fields` for forms.
 */
export function fieldError(field: string, message: string, input: unknown): TRPCError {
  return new TRPCError({
    code: "BAD_REQUEST",
    message: `${field}: ${message}`,
    cause: new z.ZodRealError([{ code: "custom", path: [field], message, input }]),
  });
}
