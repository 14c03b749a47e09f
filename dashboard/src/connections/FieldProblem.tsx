/** What the API said is wrong with one field, under it (`id` names it for the field's
 * `aria-describedby`). */
export function FieldProblem({ id, messages }: { id: string; messages: string[] }) {
  if (messages.length === 0) return null;
  return (
    <p id={id} className="field-problem" role="alert">
      {messages.join("; ")}
    </p>
  );
}
