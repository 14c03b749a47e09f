import { useEffect, useRef, useState } from "react";
import { Link } from "react-router";

import { api, call } from "../api/client";
import { useResource } from "../api/useResource";
import { ActionMessage, type Outcome } from "../components/ActionMessage";
import { EmptyState } from "../components/EmptyState";
import { ErrorState } from "../components/ErrorState";
import { LoadingState } from "../components/LoadingState";
import { shortTime } from "../contacts/format";
import "../contacts/records.css";
import { canEditFlows } from "../session/roles";
import { useSession } from "../session/SessionProvider";
import { awaits, CHANNEL_LABELS, summary, type OutboxItem } from "./messages";
import "./outbox.css";
import { SimulateControls } from "./SimulateControls";

const PAGE_SIZE = 50;
const REFRESH_MS = 4000;
const CHANNELS = ["sms", "whatsapp", "email", "voice"];

const ENDED = new Set(["completed", "failed", "cancelled", "skipped"]);

/** The steps (`execution/node`) now waiting on a sandbox send of this page: only those can
 * be simulated (an execution that moved on, or ended, has nothing to be told). Executions
 * seen ended are not asked about again at the next refresh. */
function useWaitingSteps(items: OutboxItem[] | null): ReadonlySet<string> {
  const [waiting, setWaiting] = useState<ReadonlySet<string>>(new Set());
  const ended = useRef(new Set<string>());
  useEffect(() => {
    const candidates = (items ?? []).filter((item) => awaits(item) !== null).map((item) => item.execution_id ?? "");
    const ids = [...new Set(candidates)].filter((id) => !ended.current.has(id));
    let current = true;
    const details = ids.map((id) =>
      call(api.GET("/api/executions/{execution_id}", { params: { path: { execution_id: id } } })).catch(() => null),
    );
    void Promise.all(details).then((executions) => {
      const steps = new Set<string>();
      for (const execution of executions) {
        if (execution && ENDED.has(execution.status)) ended.current.add(execution.id);
        if (execution?.status !== "waiting") continue;
        for (const step of execution.steps ?? []) if (step.status === "waiting") steps.add(`${execution.id}/${step.node_id}`);
      }
      if (current) setWaiting(steps);
    });
    return () => {
      current = false;
    };
  }, [items]);
  return waiting;
}

/** What the sandbox providers would have sent, newest first, refreshing; a send whose
 * execution waits on its outcome offers to simulate it. */
export function OutboxPage() {
  const { session } = useSession();
  const canSimulate = canEditFlows(session.role);
  const [channel, setChannel] = useState("");
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1];
  const outbox = useResource(
    () => call(api.GET("/api/outbox", { params: { query: { channel: channel || undefined, limit: PAGE_SIZE, cursor: cursor ?? undefined } } })),
    [channel, cursor],
  );
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const page = outbox.resource.status === "ready" ? outbox.resource.data : null;
  const waiting = useWaitingSteps(page?.items ?? null);
  const { reload } = outbox;

  useEffect(() => {
    if (cursor !== null) return; // older pages do not change
    const timer = window.setInterval(reload, REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [cursor, reload]);

  function simulated(item: OutboxItem, what: string) {
    const id = item.execution_id ?? "";
    setOutcome({ kind: "done", text: `Told execution ${id} about ${what}: it moves on from step "${item.node_id}".` });
    reload();
  }

  return (
    <section aria-labelledby="page-title" className="outbox-page">
      <header className="page-header">
        <h1 id="page-title">Outbox</h1>
        <div className="page-actions">
          <button type="button" className="button" onClick={reload}>
            Refresh
          </button>
        </div>
      </header>
      <p className="hint">
        In the sandbox nothing leaves the machine: each message and call a flow would have sent is recorded here. The list
        refreshes by itself every few seconds.
        {canSimulate && " A call or question still waiting on its outcome can be given one here."}
      </p>
      <div className="toolbar">
        <div className="field">
          <label htmlFor="outbox-channel">Channel</label>
          <select
            id="outbox-channel"
            value={channel}
            onChange={(e) => {
              setCursors([null]);
              setChannel(e.target.value);
            }}
          >
            <option value="">All channels</option>
            {CHANNELS.map((c) => (
              <option key={c} value={c}>
                {CHANNEL_LABELS[c]}
              </option>
            ))}
          </select>
        </div>
      </div>
      <ActionMessage outcome={outcome} onDismiss={() => setOutcome(null)} />
      {outbox.resource.status === "loading" && <LoadingState label="Loading the outbox…" />}
      {outbox.resource.status === "error" && <ErrorState title="The outbox could not be loaded" error={outbox.resource.error} onRetry={outbox.retry} />}
      {page &&
        (page.items.length === 0 ? (
          <EmptyState title={channel ? `Nothing sent by ${CHANNEL_LABELS[channel]} yet` : "Nothing sent yet"}>
            <p>Run a published flow whose steps send a message or place a call: what it would have sent appears here.</p>
          </EmptyState>
        ) : (
          <>
            <ol className="outbox-list" aria-label="Sent messages, newest first">
              {page.items.map((item) => (
                <OutboxEntry
                  key={item.id}
                  item={item}
                  waiting={item.execution_id !== null && waiting.has(`${item.execution_id}/${item.node_id}`)}
                  canSimulate={canSimulate}
                  onSimulated={(what) => simulated(item, what)}
                  onFailed={(action, error) => setOutcome({ kind: "failed", action, error })}
                />
              ))}
            </ol>
            <nav className="pager" aria-label="Outbox pages">
              <span>Page {cursors.length}, newest first</span>
              <span className="pager-buttons">
                <button type="button" className="button" disabled={cursors.length === 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
                  Newer
                </button>
                <button type="button" className="button" disabled={!page.next_cursor} onClick={() => setCursors((c) => [...c, page.next_cursor ?? null])}>
                  Older
                </button>
              </span>
            </nav>
          </>
        ))}
    </section>
  );
}

interface OutboxEntryProps {
  item: OutboxItem;
  waiting: boolean;
  canSimulate: boolean;
  onSimulated: (what: string) => void;
  onFailed: (action: string, error: unknown) => void;
}

function OutboxEntry({ item, waiting, canSimulate, onSimulated, onFailed }: OutboxEntryProps) {
  const awaiting = awaits(item);
  const channel = CHANNEL_LABELS[item.channel] ?? item.channel;
  const label = `the ${channel.toLowerCase()} to ${item.to}`;
  return (
    <li className={`outbox-entry outbox-${item.channel}`} data-outbox-id={item.id}>
      <article aria-label={`${channel} to ${item.to}`}>
        <header className="outbox-head">
          <span className="chip">{channel}</span>
          <span className="outbox-to">{item.to}</span>
          <span className={`chip chip-quiet outbox-status`} data-testid="outbox-status">
            {item.status}
          </span>
          {waiting && <span className="chip chip-warn">{awaiting === "reply" ? "waiting for a reply" : "waiting on its outcome"}</span>}
          <time className="outbox-time cell-soft" dateTime={item.created_at}>
            {shortTime(item.created_at)}
          </time>
        </header>
        {item.subject && <p className="outbox-subject">{item.subject}</p>}
        <p className="outbox-body">{summary(item)}</p>
        <footer className="outbox-foot cell-soft">
          {item.execution_id ? (
            <>
              <Link to={`/executions/${item.execution_id}`}>Execution {item.execution_id}</Link>
              {item.node_id && <span> · step {item.node_id}</span>}
            </>
          ) : (
            <span>Not sent by an execution</span>
          )}
          {item.provider !== "sandbox" && <span> · sent through {item.provider}</span>}
        </footer>
        {waiting && awaiting && item.execution_id && canSimulate && (
          <SimulateControls executionId={item.execution_id} awaiting={awaiting} label={label} onDone={onSimulated} onFailed={onFailed} />
        )}
      </article>
    </li>
  );
}
