// Turns API errors into sentences a form can show. The server's errorFormatter puts zod field paths into the
// message ("email: write an email address…") and into data.fields; service errors use the same "field: …" form.

export interface FormErrors {
  /** A message not tied to one field (shown at the top of the form). */
  form: string | null;
  /** The first message per top-level field name. */
  fields: Record<string, string>;
}

interface ErrorShape {
  message?: unknown;
  data?: { fields?: { path: string; message: string }[] | null; code?: string; httpStatus?: number } | null;
}

function rawMessage(error: unknown): string {
  if (error === null || error === undefined) return "";
  const shape = error as ErrorShape;
  const message = typeof shape.message === "string" ? shape.message : String(error);
  if (/failed to fetch|networkerror|fetch failed|load failed/i.test(message)) {
    return "Cannot reach the Sluice server. Check that it is running and try again.";
  }
  return message;
}

/** The error as a sentence for an alert. */
export function errorMessage(error: unknown): string {
  return sentence(rawMessage(error));
}

/** Server messages are written lower-case to compose ("name: …"); shown alone they read better capitalised. */
export function sentence(text: string): string {
  return text.length > 0 ? text[0]!.toUpperCase() + text.slice(1) : text;
}

export function errorCode(error: unknown): string | undefined {
  return (error as ErrorShape | null)?.data?.code;
}

export function formErrors(error: unknown, fieldNames: readonly string[]): FormErrors {
  const result: FormErrors = { form: null, fields: {} };
  if (!error) return result;
  const known = new Set(fieldNames);
  const rest: string[] = [];
  const put = (path: string, message: string) => {
    const head = path.split(".")[0] ?? "";
    if (known.has(head)) result.fields[head] ??= sentence(message);
    else rest.push(path && path !== "input" ? `${path}: ${message}` : message);
  };
  const fields = (error as ErrorShape).data?.fields;
  if (fields && fields.length > 0) {
    for (const f of fields) put(f.path, f.message);
  } else {
    for (const part of rawMessage(error).split("; ")) {
      const m = /^([A-Za-z_][\w.]*): (.+)$/s.exec(part);
      if (m?.[1] && m[2] && known.has(m[1].split(".")[0] ?? "")) put(m[1], m[2]);
      else rest.push(part);
    }
  }
  result.form = rest.length > 0 ? sentence(rest.join("; ")) : null;
  return result;
}
