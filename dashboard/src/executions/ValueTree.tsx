/** A JSON value as a readable tree: objects and lists fold open, scalars shown by kind. */
export function ValueTree({ value, label, depth = 0 }: { value: unknown; label?: string; depth?: number }) {
  if (value === null || typeof value !== "object") {
    return (
      <span className="tree-leaf">
        {label !== undefined && <span className="tree-key">{label}: </span>}
        <Scalar value={value} />
      </span>
    );
  }
  const entries: [string, unknown][] = Array.isArray(value) ? value.map((item, index) => [String(index), item]) : Object.entries(value);
  const summary = Array.isArray(value) ? `[${entries.length} item${entries.length === 1 ? "" : "s"}]` : `{${entries.length} key${entries.length === 1 ? "" : "s"}}`;
  if (entries.length === 0) {
    return (
      <span className="tree-leaf">
        {label !== undefined && <span className="tree-key">{label}: </span>}
        <span className="tree-empty">{Array.isArray(value) ? "[ ]" : "{ }"}</span>
      </span>
    );
  }
  const children = (
    <ul className="tree-children">
      {entries.map(([key, child]) => (
        <li key={key}>
          <ValueTree value={child} label={key} depth={depth + 1} />
        </li>
      ))}
    </ul>
  );
  if (label === undefined) return <div className="value-tree">{children}</div>;
  return (
    <details className="tree-branch" open={depth <= 2 && entries.length <= 12}>
      <summary>
        <span className="tree-key">{label}</span> <span className="tree-count">{summary}</span>
      </summary>
      {children}
    </details>
  );
}

function Scalar({ value }: { value: unknown }) {
  if (value === null || value === undefined) return <span className="tree-null">null</span>;
  if (typeof value === "string") return <span className="tree-string">"{value}"</span>;
  if (typeof value === "number") return <span className="tree-number">{value}</span>;
  if (typeof value === "boolean") return <span className="tree-boolean">{String(value)}</span>;
  return <span>{String(value)}</span>;
}
