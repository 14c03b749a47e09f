import { useEffect, useMemo, useState } from "react";

import { portsOf } from "../canvas/ports";
import type { FlowDefinition, FlowNode, StepInfo } from "../canvas/types";
import { idProblem } from "./edits";
import { FormContext } from "./FormContext";
import type { PlacedProblem } from "./problems";
import type { JsonSchema } from "./schema";
import { ObjectFields, SchemaField } from "./SchemaField";
import { variablesInScope } from "./variables";

const RETRY_SCHEMA: JsonSchema = {
  type: "object",
  title: "Retry",
  properties: {
    max_attempts: { type: "integer", title: "Max attempts", default: 3, minimum: 1, maximum: 100 },
    delay_s: { type: "number", title: "Delay S", default: 1, minimum: 0 },
    backoff: { type: "number", title: "Backoff", default: 2, minimum: 1, maximum: 10 },
  },
};

interface NodePanelProps {
  node: FlowNode;
  step: StepInfo | undefined;
  definition: FlowDefinition;
  problems: PlacedProblem[];
  canEdit: boolean;
  onChange: (change: Partial<FlowNode>, key: string) => void;
  onRename: (to: string) => void;
  onConnect: (port: string, target: string | null) => void;
  onSetStart: () => void;
  onDelete: () => void;
  onClose: () => void;
}

/** The selected step: its id and name, its config (a form from the step's JSON Schema), its
 * transitions, the common action fields, and the draft's problems beside each field. */
export function NodePanel({ node, step, definition, problems, canEdit, onChange, onRename, onConnect, onSetStart, onDelete, onClose }: NodePanelProps) {
  const scope = useMemo(() => variablesInScope(definition, node.id), [definition, node.id]);
  const context = useMemo(() => ({ scope, readOnly: !canEdit }), [scope, canEdit]);
  const schema = (step?.config_schema ?? { type: "object", properties: {} }) as JsonSchema;
  const byField = useMemo(() => {
    const map = new Map<string, string[]>();
    for (const { field, problem } of problems) map.set(field, [...(map.get(field) ?? []), problem.message]);
    return map;
  }, [problems]);
  const configProblems = useMemo(() => {
    const map = new Map<string, string[]>();
    for (const [field, list] of byField) if (field.startsWith("config.")) map.set(field.slice(7), list);
    return map;
  }, [byField]);
  const nodeProblems = [...(byField.get("") ?? []), ...(byField.get("config") ?? []), ...(byField.get("type") ?? [])];
  const ports = portsOf(node, step);
  const others = definition.nodes.filter((other) => other.id !== node.id);
  const isStart = definition.start === node.id;

  return (
    <FormContext.Provider value={context}>
      <div className="side-panel-head">
        <div>
          <span className="side-panel-kicker">{step?.label ?? node.type}</span>
          <h2 id="side-panel-title">{node.name || node.id}</h2>
        </div>
        <button type="button" className="button-quiet" onClick={onClose} aria-label="Close the step panel">
          ×
        </button>
      </div>
      {step?.description && <p className="hint">{step.description}</p>}
      {nodeProblems.length > 0 && (
        <ul className="field-problems" data-testid="node-level-problems">
          {nodeProblems.map((message, index) => (
            <li key={index}>{message}</li>
          ))}
        </ul>
      )}
      <div className="side-panel-actions">
        {isStart ? (
          <span className="step-badge step-badge-start">start</span>
        ) : (
          canEdit && (
            <button type="button" className="button button-small" onClick={onSetStart}>
              Start here
            </button>
          )
        )}
        {canEdit && (
          <button type="button" className="button button-small button-danger-quiet" onClick={onDelete}>
            Delete step
          </button>
        )}
      </div>
      <form className="node-form" onSubmit={(event) => event.preventDefault()} aria-labelledby="side-panel-title">
        <NodeIdField key={node.id} node={node} definition={definition} canEdit={canEdit} onRename={onRename} />
        <div className="field">
          <label htmlFor="node-name">Name</label>
          <input id="node-name" value={node.name ?? ""} disabled={!canEdit} placeholder={node.id} onChange={(e) => onChange({ name: e.target.value === "" ? undefined : e.target.value }, "name")} />
        </div>
        <h3>Settings</h3>
        {Object.keys(schema.properties ?? {}).length === 0 ? (
          <p className="hint">This step has no settings.</p>
        ) : (
          <ObjectFields
            id="config"
            schema={schema}
            root={schema}
            value={node.config ?? {}}
            problems={configProblems}
            onChange={(config) => onChange({ config }, "config")}
          />
        )}
        <h3>Next steps</h3>
        {ports.length === 0 && <p className="hint">The flow ends here.</p>}
        {ports.map((port) => (
          <div className="field field-inline" key={port}>
            <label htmlFor={`port-${port}`}>{port}</label>
            <select id={`port-${port}`} value={node.transitions?.[port] ?? ""} disabled={!canEdit} onChange={(e) => onConnect(port, e.target.value || null)}>
              <option value="">(ends the branch)</option>
              {others.map((other) => (
                <option key={other.id} value={other.id}>
                  {other.name ? `${other.name} (${other.id})` : other.id}
                </option>
              ))}
            </select>
          </div>
        ))}
        {byField.get("transitions") && (
          <ul className="field-problems">
            {byField.get("transitions")!.map((message, index) => (
              <li key={index}>{message}</li>
            ))}
          </ul>
        )}
        {step?.action && (
          <>
            <h3>On failure</h3>
            <SchemaField id="node-retry" name="retry" schema={RETRY_SCHEMA} root={RETRY_SCHEMA} value={node.retry ?? undefined} required={false} problems={byField.get("retry")} onChange={(retry) => onChange({ retry: retry as Record<string, unknown> | undefined }, "retry")} />
            <SchemaField
              id="node-timeout"
              name="timeout_s"
              schema={{ type: "number", title: "Timeout S", description: "How long one attempt may take." }}
              root={{}}
              value={node.timeout_s ?? undefined}
              required={false}
              problems={byField.get("timeout_s")}
              onChange={(timeout) => onChange({ timeout_s: timeout as number | undefined }, "timeout_s")}
            />
            <SchemaField
              id="node-continue"
              name="continue_on_error"
              schema={{ type: "boolean", title: "Continue on error", description: "When it fails with no error transition, go on along its success port as if it had succeeded." }}
              root={{}}
              value={node.continue_on_error ?? undefined}
              required={false}
              problems={byField.get("continue_on_error")}
              onChange={(value) => onChange({ continue_on_error: value === true ? true : undefined }, "continue_on_error")}
            />
          </>
        )}
      </form>
    </FormContext.Provider>
  );
}

function NodeIdField({ node, definition, canEdit, onRename }: { node: FlowNode; definition: FlowDefinition; canEdit: boolean; onRename: (to: string) => void }) {
  const [text, setText] = useState(node.id);
  useEffect(() => setText(node.id), [node.id]);
  const problem = idProblem(definition, node.id, text.trim());
  const apply = () => {
    const wanted = text.trim();
    if (wanted !== node.id && problem === null) onRename(wanted);
  };
  return (
    <div className={problem ? "field field-invalid" : "field"}>
      <label htmlFor="node-id">
        Step ID<span className="required-mark" aria-hidden="true"> *</span>
      </label>
      <input
        id="node-id"
        value={text}
        disabled={!canEdit}
        spellCheck={false}
        aria-invalid={problem ? true : undefined}
        aria-describedby="node-id-hint"
        onChange={(e) => setText(e.target.value)}
        onBlur={apply}
        onKeyDown={(e) => {
          if (e.key === "Enter") apply();
          if (e.key === "Escape") setText(node.id);
        }}
      />
      <p className="hint" id="node-id-hint">
        {problem ?? "Templates read its result as steps." + node.id + "; transitions follow a rename."}
      </p>
    </div>
  );
}
