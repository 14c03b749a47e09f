import { problemsAt, settingLabel, type Setting } from "./connections";
import { FieldProblem } from "./FieldProblem";

interface SettingsFieldsProps {
  settings: Setting[];
  values: Record<string, string>;
  onChange: (name: string, value: string) => void;
  error: unknown;
  idPrefix: string;
}

/** An integration's non-secret settings: a left-empty one takes its default (shown as the
 * placeholder). */
export function SettingsFields({ settings, values, onChange, error, idPrefix }: SettingsFieldsProps) {
  if (settings.length === 0) return null;
  return (
    <fieldset className="connection-fieldset">
      <legend>Settings</legend>
      {settings.map((setting) => {
        const id = `${idPrefix}-setting-${setting.name}`;
        const problems = problemsAt(error, `$.settings.${setting.name}`);
        const fallback = setting.default === null || setting.default === undefined ? "" : String(setting.default);
        return (
          <div key={setting.name} className="connection-field">
            <label htmlFor={id}>
              {settingLabel(setting.name)}
              {!setting.required && <span className="optional"> (optional)</span>}
            </label>
            <input
              id={id}
              type={setting.type === "number" ? "number" : "text"}
              step={setting.type === "number" ? "any" : undefined}
              min={setting.type === "number" ? 0 : undefined}
              inputMode={setting.type === "number" ? "decimal" : undefined}
              spellCheck={false}
              required={setting.required}
              placeholder={fallback}
              value={values[setting.name] ?? ""}
              onChange={(event) => onChange(setting.name, event.target.value)}
              aria-invalid={problems.length > 0}
              aria-describedby={[fallback === "" ? "" : `${id}-default`, problems.length > 0 ? `${id}-problem` : ""].join(" ").trim() || undefined}
            />
            {fallback !== "" && (
              <p id={`${id}-default`} className="field-hint">
                Left empty: <code>{fallback}</code>
              </p>
            )}
            <FieldProblem id={`${id}-problem`} messages={problems} />
          </div>
        );
      })}
    </fieldset>
  );
}

/** The settings to send: those filled in, numbers as numbers (the API fills in defaults). */
export function settingsOf(settings: Setting[], values: Record<string, string>): Record<string, unknown> {
  const chosen: Record<string, unknown> = {};
  for (const setting of settings) {
    const value = (values[setting.name] ?? "").trim();
    if (value === "") continue;
    chosen[setting.name] = setting.type === "number" && Number.isFinite(Number(value)) ? Number(value) : value;
  }
  return chosen;
}
