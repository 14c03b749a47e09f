import type { Schemas } from "../api/client";

/** Each problem the API named, at its JSON path (`$.definition.nodes[2].type: …`). */
export function ProblemDetails({ details }: { details: Schemas["ErrorDetail"][] }) {
  if (details.length === 0) return null;
  return (
    <ul className="problem-details">
      {details.map((detail, index) => (
        <li key={index}>
          {detail.path && <code>{detail.path}</code>} {detail.message}
        </li>
      ))}
    </ul>
  );
}
