interface EnableSwitchProps {
  flowName: string;
  enabled: boolean;
  pending: boolean;
  onChange: (enabled: boolean) => void;
}

/** Turns a flow's automatic triggers on or off (manual runs work either way). */
export function EnableSwitch({ flowName, enabled, pending, onChange }: EnableSwitchProps) {
  return (
    <button
      type="button"
      role="switch"
      aria-checked={enabled}
      aria-label={`${flowName} enabled`}
      className={enabled ? "switch switch-on" : "switch"}
      disabled={pending}
      onClick={() => onChange(!enabled)}
    >
      <span className="switch-knob" aria-hidden="true" />
      <span className="switch-text">{enabled ? "On" : "Off"}</span>
    </button>
  );
}
