import type { Schemas } from "../../api/client";
import { shown } from "./format";

type Change = Schemas["FieldChange"];

function Value({ change, side }: { change: Change; side: "from" | "to" }) {
  if (!(side in change)) return <span className="diff-absent">—</span>;
  return <pre className={side === "from" ? "diff-value diff-before" : "diff-value diff-after"}>{shown(change[side])}</pre>;
}

function ChangeRows({ changes }: { changes: Change[] }) {
  return (
    <>
      {changes.map((change) => (
        <tr key={change.field}>
          <th scope="row">
            <code>{change.field}</code>
          </th>
          <td>
            <Value change={change} side="from" />
          </td>
          <td>
            <Value change={change} side="to" />
          </td>
        </tr>
      ))}
    </>
  );
}

function nodeText(node: unknown): string {
  if (typeof node !== "object" || node === null) return "";
  const { id: _id, type: _type, position: _position, ...rest } = node as Record<string, unknown>;
  return shown(rest);
}

interface VersionDiffViewProps {
  diff: Schemas["VersionDiff"];
  /** The two documents' nodes by id, to show what was added or removed whole. */
  before: Map<string, unknown>;
  after: Map<string, unknown>;
}

/** Where a step sits on the canvas: a change to it alone is a move, not a change of behaviour. */
const isLayout = (change: Change) => change.field === "position" || change.field.startsWith("position.");

/** What changed from one version to another, the older on the left and the newer on the right.
 * Steps only moved on the canvas are named in one line, apart from the changes that matter. */
export function VersionDiffView({ diff, before, after }: VersionDiffViewProps) {
  const { added, removed } = diff.nodes;
  const changed = diff.nodes.changed
    .map((node) => ({ ...node, changes: node.changes.filter((change) => !isLayout(change)) }))
    .filter((node) => node.changes.length > 0);
  const moved = diff.nodes.changed.filter((node) => node.changes.some(isLayout)).map((node) => node.id);
  const nothing = !diff.start && diff.variables.length === 0 && added.length + removed.length + changed.length === 0;
  const head = (
    <thead>
      <tr>
        <th scope="col">What</th>
        <th scope="col">v{diff.from}</th>
        <th scope="col">v{diff.to}</th>
      </tr>
    </thead>
  );
  return (
    <section className="version-diff" aria-label={`Changes from v${diff.from} to v${diff.to}`}>
      <p className="diff-summary">
        <strong>
          v{diff.from} → v{diff.to}:
        </strong>{" "}
        {nothing
          ? "the steps do the same."
          : `${added.length} added, ${removed.length} removed, ${changed.length} changed` +
            (diff.variables.length ? `, ${diff.variables.length} variable${diff.variables.length === 1 ? "" : "s"} changed` : "") +
            (diff.start ? ", new start step" : "") +
            "."}
      </p>
      {moved.length > 0 && (
        <p className="hint">
          Moved on the canvas: {moved.join(", ")}.
        </p>
      )}
      {diff.start && (
        <table className="diff-table">
          <caption>Start step</caption>
          {head}
          <tbody>
            <ChangeRows changes={[{ field: "start", from: diff.start.from, to: diff.start.to }]} />
          </tbody>
        </table>
      )}
      {diff.variables.length > 0 && (
        <table className="diff-table">
          <caption>Variables</caption>
          {head}
          <tbody>
            <ChangeRows changes={diff.variables} />
          </tbody>
        </table>
      )}
      {added.map((node) => (
        <table className="diff-table diff-added" key={`added-${node.id}`}>
          <caption>
            Added <code>{node.id}</code> <span className="diff-type">{node.type}</span>
          </caption>
          {head}
          <tbody>
            <tr>
              <th scope="row">step</th>
              <td>
                <span className="diff-absent">—</span>
              </td>
              <td>
                <pre className="diff-value diff-after">{nodeText(after.get(node.id))}</pre>
              </td>
            </tr>
          </tbody>
        </table>
      ))}
      {removed.map((node) => (
        <table className="diff-table diff-removed" key={`removed-${node.id}`}>
          <caption>
            Removed <code>{node.id}</code> <span className="diff-type">{node.type}</span>
          </caption>
          {head}
          <tbody>
            <tr>
              <th scope="row">step</th>
              <td>
                <pre className="diff-value diff-before">{nodeText(before.get(node.id))}</pre>
              </td>
              <td>
                <span className="diff-absent">—</span>
              </td>
            </tr>
          </tbody>
        </table>
      ))}
      {changed.map((node) => (
        <table className="diff-table diff-changed" key={`changed-${node.id}`}>
          <caption>
            Changed <code>{node.id}</code> <span className="diff-type">{node.type}</span>
          </caption>
          {head}
          <tbody>
            <ChangeRows changes={node.changes} />
          </tbody>
        </table>
      ))}
    </section>
  );
}
