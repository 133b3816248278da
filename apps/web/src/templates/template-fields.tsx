import { useId } from "react";
import type { RouterOutputs } from "@/components/api-types";
import { TextField } from "@/components/text-field";
import { VISIBILITY_OPTIONS } from "./visibility";

type Visibility = RouterOutputs["templates"]["get"]["visibility"];

/** What a template says of itself, as its forms edit it: tags as the comma-separated text typed. */
export interface TemplateFieldValues {
  title: string;
  description: string;
  tags: string;
  visibility: Visibility;
}

/** A template's current details as the form starts them. */
export function templateFieldValues(t: {
  title: string;
  description: string;
  tags: readonly string[];
  visibility: Visibility;
}): TemplateFieldValues {
  return { title: t.title, description: t.description, tags: t.tags.join(", "), visibility: t.visibility };
}

/** Title, description, tags and visibility: the details "Save as template" and "Edit template" both ask for. */
export function TemplateFields({
  values,
  onChange,
  errors,
}: {
  values: TemplateFieldValues;
  onChange: (values: TemplateFieldValues) => void;
  errors: Partial<Record<keyof TemplateFieldValues, string>>;
}) {
  const id = useId();
  const set = <K extends keyof TemplateFieldValues>(key: K, value: TemplateFieldValues[K]) =>
    onChange({ ...values, [key]: value });
  return (
    <>
      <TextField
        label="Title"
        name="title"
        value={values.title}
        onChange={(e) => set("title", e.target.value)}
        error={errors.title}
        autoComplete="off"
        maxLength={200}
        autoFocus
      />
      <div className="field">
        <label htmlFor={`${id}-description`} className="field-label">
          Description
        </label>
        <textarea
          id={`${id}-description`}
          className="input"
          rows={4}
          value={values.description}
          onChange={(e) => set("description", e.target.value)}
          maxLength={10_000}
          aria-invalid={errors.description ? true : undefined}
        />
        {errors.description ? <p className="field-error">{errors.description}</p> : null}
      </div>
      <TextField
        label="Tags"
        name="tags"
        value={values.tags}
        onChange={(e) => set("tags", e.target.value)}
        error={errors.tags}
        hint="Comma separated lower-case words, e.g. cdc, postgres."
        autoComplete="off"
      />
      <div className="field">
        <label htmlFor={`${id}-visibility`} className="field-label">
          Visible to
        </label>
        <select
          id={`${id}-visibility`}
          className="input"
          value={values.visibility}
          onChange={(e) => set("visibility", e.target.value as Visibility)}
        >
          {VISIBILITY_OPTIONS.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
        {errors.visibility ? <p className="field-error">{errors.visibility}</p> : null}
      </div>
    </>
  );
}
