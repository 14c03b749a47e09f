import { STATUSES, STATUS_LABELS, statusOf, type Board } from "./board";

/** The whole board in one line: callers waiting across departments, agents by status. */
export function BoardTotals({ board }: { board: Board }) {
  const waiting = board.departments.reduce((sum, entry) => sum + entry.queue.length, 0);
  return (
    <p className="board-totals" data-testid="board-totals" aria-label="Totals">
      <span className={waiting > 0 ? "queue-count queue-count-waiting" : "queue-count"}>
        {waiting === 1 ? "1 caller waiting" : `${waiting} callers waiting`}
      </span>
      {STATUSES.map((status) => (
        <span key={status} className={`agent-count agent-status-${status}`}>
          {board.agents.filter((agent) => statusOf(agent) === status).length} {STATUS_LABELS[status].toLowerCase()}
        </span>
      ))}
    </p>
  );
}
