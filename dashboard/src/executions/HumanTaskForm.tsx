import { useId, useState, type FormEvent } from "react";

import { ApiProblem, api, call, messageOf } from "../api/client";
import { ProblemDetails } from "../components/ProblemDetails";
import type { ExecutionStep } from "./format";

/** One field of a human task's form, as the waiting step records it (schemas FormField). */
interface TaskField {
  name: string;
  type: "text" | "number" | "choice" | "boolean" | "datetime" | "date";
  label?: string | null;
  options: string[];
  required: boolean;
}

const TYPES = new Set(["text", "number", "choice", "boolean", "datetime", "date"]);

function fieldsOf(result: Record<string, unknown>): TaskField[] {
  const raw = Array.isArray(result.fields) ? result.fields : [];
  return raw.flatMap((item) => {
    if (typeof item !== "object" || item === null) return [];
    const field = item as Record<string, unknown>;
    if (typeof field.name !== "string") return [];
    const type = typeof field.type === "string" && TYPES.has(field.type) ? (field.type as TaskField["type"]) : "text";
    return [
      {
        name: field.name,
        type,
        label: typeof field.label === "string" ? field.label : null,
        options: Array.isArray(field.options) ? field.options.map(String) : [],
        required: field.required === true,
      },
    ];
  });
}

function valueOf(field: TaskField, raw: string | boolean | undefined): unknown {
  if (field.type === "boolean") return raw === true;
  if (raw === undefined || raw === "" || typeof raw === "boolean") return undefined;
  if (field.type === "number") return Number(raw);
  if (field.type === "datetime") return new Date(raw).toISOString();
  return raw;
}

interface HumanTaskFormProps {
  executionId: string;
  step: ExecutionStep;
  canComplete: boolean;
  onCompleted: (message: string) => void;
}

/** The form of a human task the run waits on: its title, description and fields; completed
 * through PUT /api/executions/{id}/steps/{step}/complete, after which the run goes on. */
export function HumanTaskForm({ executionId, step, canComplete, onCompleted }: HumanTaskFormProps) {
  const id = useId();
  const result = step.result ?? {};
  const fields = fieldsOf(result);
  const title = typeof result.title === "string" ? result.title : step.node_id;
  const description = typeof result.description === "string" ? result.description : null;
  const assignee = typeof result.assignee === "string" ? result.assignee : null;
  const [values, setValues] = useState<Record<string, string | boolean>>({});
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const data: Record<string, unknown> = {};
    for (const field of fields) {
      const value = valueOf(field, values[field.name]);
      if (value !== undefined) data[field.name] = value;
    }
    setPending(true);
    setError(null);
    try {
      await call(
        api.PUT("/api/executions/{execution_id}/steps/{step}/complete", {
          params: { path: { execution_id: executionId, step: step.node_id } },
          body: { data },
        }),
      );
      onCompleted(`Completed “${title}”; the run goes on.`);
    } catch (problem) {
      setError(problem);
      setPending(false);
    }
  }

  const set = (name: string, value: string | boolean) => setValues((now) => ({ ...now, [name]: value }));

  return (
    <section className="human-task" aria-labelledby={`${id}-title`}>
      <p className="human-task-kicker">
        Waiting for a person{assignee ? ` · assigned to ${assignee}` : ""} · step <code>{step.node_id}</code>
      </p>
      <h2 id={`${id}-title`}>{title}</h2>
      {description && <p className="human-task-description">{description}</p>}
      {!canComplete && <p className="hint">Your key can read this task; a manager or its agent completes it.</p>}
      <form className="human-task-form" onSubmit={submit} aria-label={`Complete ${title}`}>
        {fields.length === 0 && <p className="hint">This task has no fields: completing it is the answer.</p>}
        {fields.map((field) => {
          const inputId = `${id}-${field.name}`;
          const label = (
            <label htmlFor={inputId}>
              {field.label || field.name}
              {field.required && <span className="required-mark"> (required)</span>}
              <span className="field-type"> · {field.type}</span>
            </label>
          );
          const common = { id: inputId, name: field.name, required: field.required, disabled: !canComplete || pending };
          if (field.type === "boolean") {
            return (
              <div key={field.name} className="task-field task-field-check">
                <input {...common} required={false} type="checkbox" checked={values[field.name] === true} onChange={(e) => set(field.name, e.target.checked)} />
                {label}
              </div>
            );
          }
          const text = typeof values[field.name] === "string" ? (values[field.name] as string) : "";
          return (
            <div key={field.name} className="task-field">
              {label}
              {field.type === "choice" ? (
                <select {...common} value={text} onChange={(e) => set(field.name, e.target.value)}>
                  <option value="">Choose…</option>
                  {field.options.map((option) => (
                    <option key={option} value={option}>
                      {option}
                    </option>
                  ))}
                </select>
              ) : (
                <input
                  {...common}
                  type={field.type === "datetime" ? "datetime-local" : field.type === "date" ? "date" : field.type === "number" ? "number" : "text"}
                  step={field.type === "number" ? "any" : undefined}
                  value={text}
                  onChange={(e) => set(field.name, e.target.value)}
                />
              )}
            </div>
          );
        })}
        {error !== null && (
          <div className="form-error" role="alert">
            Completing the task failed: {messageOf(error)}
            {error instanceof ApiProblem && <ProblemDetails details={error.details} />}
          </div>
        )}
        {canComplete && (
          <div className="task-actions">
            <button type="submit" className="button button-primary" disabled={pending}>
              {pending ? "Completing…" : "Complete task"}
            </button>
          </div>
        )}
      </form>
    </section>
  );
}
