import { fieldLabel, isPlainField, problemsAt, type AuthKind } from "./connections";
import { FieldProblem } from "./FieldProblem";

interface SecretFieldsProps {
  auth: AuthKind;
  values: Record<string, string>;
  onChange: (name: string, value: string) => void;
  error: unknown;
  idPrefix: string;
}

/** The secret's fields for an auth kind, the ones it needs first. Typed once: after saving,
 * the API shows them masked only. */
export function SecretFields({ auth, values, onChange, error, idPrefix }: SecretFieldsProps) {
  const fields = [...auth.required.map((name) => ({ name, required: true })), ...auth.optional.map((name) => ({ name, required: false }))];
  return (
    <fieldset className="connection-fieldset">
      <legend>Secret</legend>
      {fields.map(({ name, required }) => {
        const id = `${idPrefix}-secret-${name}`;
        const problems = problemsAt(error, `$.secret.${name}`);
        return (
          <div key={name} className="connection-field">
            <label htmlFor={id}>
              {fieldLabel(name)}
              {!required && <span className="optional"> (optional)</span>}
            </label>
            <input
              id={id}
              type={isPlainField(name) ? "text" : "password"}
              autoComplete={isPlainField(name) ? "off" : "new-password"}
              spellCheck={false}
              required={required}
              value={values[name] ?? ""}
              onChange={(event) => onChange(name, event.target.value)}
              aria-invalid={problems.length > 0}
              aria-describedby={problems.length > 0 ? `${id}-problem` : undefined}
            />
            <FieldProblem id={`${id}-problem`} messages={problems} />
          </div>
        );
      })}
    </fieldset>
  );
}

/** The secret to send: the fields of the auth kind that were filled in. */
export function secretOf(auth: AuthKind, values: Record<string, string>): Record<string, string> {
  const secret: Record<string, string> = {};
  for (const name of [...auth.required, ...auth.optional]) {
    const value = (values[name] ?? "").trim();
    if (value !== "") secret[name] = value;
  }
  return secret;
}

/** The paths the secret's fields show problems at. */
export function secretPaths(auth: AuthKind): string[] {
  return [...auth.required, ...auth.optional].map((name) => `$.secret.${name}`);
}
