import { useId, useRef, useState } from "react";

import { useFormContext } from "./FormContext";

interface TemplateInputProps {
  id: string;
  value: string;
  onChange: (value: string) => void;
  multiline?: boolean;
  placeholder?: string;
  required?: boolean;
  describedBy?: string;
  invalid?: boolean;
  /** What the field is called (the picker says where it inserts; a field with no <label> takes it as its name). */
  name: string;
  labelled?: boolean;
}

/** A text that may hold `{{ … }}` templates, with a picker of the variables in scope that
 * inserts one where the cursor is. */
export function TemplateInput({ id, value, onChange, multiline = false, placeholder, required, describedBy, invalid, name, labelled = true }: TemplateInputProps) {
  const { scope, readOnly } = useFormContext();
  const [open, setOpen] = useState(false);
  const field = useRef<HTMLInputElement & HTMLTextAreaElement>(null);
  const cursor = useRef<[number, number] | null>(null);
  const listId = useId();

  function remember() {
    const element = field.current;
    if (element) cursor.current = [element.selectionStart ?? value.length, element.selectionEnd ?? value.length];
  }

  function insert(name: string) {
    const [from, to] = cursor.current ?? [value.length, value.length];
    const text = `{{ ${name} }}`;
    onChange(value.slice(0, from) + text + value.slice(to));
    setOpen(false);
    const caret = from + text.length;
    cursor.current = [caret, caret];
    requestAnimationFrame(() => {
      field.current?.focus();
      field.current?.setSelectionRange(caret, caret);
    });
  }

  const props = {
    id,
    ref: field,
    value,
    placeholder,
    required,
    disabled: readOnly,
    spellCheck: false,
    "aria-describedby": describedBy,
    "aria-label": labelled ? undefined : name,
    "aria-invalid": invalid || undefined,
    onChange: (event: { target: { value: string } }) => onChange(event.target.value),
    onSelect: remember,
    onBlur: remember,
  };
  return (
    <div className="template-input">
      <div className="template-input-row">
        {multiline ? <textarea rows={4} {...props} /> : <input type="text" {...props} />}
        {!readOnly && (
          <button
            type="button"
            className="button button-small template-picker-toggle"
            aria-expanded={open}
            aria-controls={listId}
            aria-label={`Insert a variable into ${name}`}
            title="Insert a variable"
            onMouseDown={remember}
            onClick={() => setOpen((shown) => !shown)}
          >
            {"{ }"}
          </button>
        )}
      </div>
      {open && (
        <div
          id={listId}
          className="template-picker"
          role="group"
          aria-label="Variables in scope"
          onKeyDown={(event) => {
            if (event.key === "Escape") {
              event.stopPropagation();
              setOpen(false);
              field.current?.focus();
            }
          }}
        >
          {scope.map((group) => (
            <div key={group.label} className="template-picker-group">
              <span className="template-picker-label">{group.label}</span>
              {group.names.map((name, index) => (
                <button key={name} type="button" className="template-picker-item" onClick={() => insert(name)} autoFocus={index === 0 && group === scope[0]}>
                  {name}
                </button>
              ))}
            </div>
          ))}
        </div>
      )}
    </div>
  );
}
