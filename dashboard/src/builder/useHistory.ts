import { useCallback, useReducer } from "react";

import type { FlowDefinition } from "../canvas/types";

const LIMIT = 200;
const COALESCE_MS = 1200;

interface History {
  past: FlowDefinition[];
  present: FlowDefinition;
  future: FlowDefinition[];
  /** The last change's key and time: typing in one field is one step to undo, not one per key. */
  lastKey: string | null;
  lastAt: number;
}

type Action =
  | { kind: "commit"; change: Change; key: string | null; at: number }
  | { kind: "undo" }
  | { kind: "redo" }
  | { kind: "reset"; definition: FlowDefinition };

/** A new document, or how to make one from the current one (never stale). */
export type Change = FlowDefinition | ((current: FlowDefinition) => FlowDefinition);

function reduce(history: History, action: Action): History {
  switch (action.kind) {
    case "commit": {
      const definition = typeof action.change === "function" ? action.change(history.present) : action.change;
      if (definition === history.present) return history;
      const coalesce = action.key !== null && action.key === history.lastKey && action.at - history.lastAt < COALESCE_MS;
      const past = coalesce ? history.past : [...history.past, history.present].slice(-LIMIT);
      return { past, present: definition, future: [], lastKey: action.key, lastAt: action.at };
    }
    case "undo": {
      const previous = history.past.at(-1);
      if (previous === undefined) return history;
      return { past: history.past.slice(0, -1), present: previous, future: [history.present, ...history.future], lastKey: null, lastAt: 0 };
    }
    case "redo": {
      const [next, ...rest] = history.future;
      if (next === undefined) return history;
      return { past: [...history.past, history.present], present: next, future: rest, lastKey: null, lastAt: 0 };
    }
    case "reset":
      return { past: [], present: action.definition, future: [], lastKey: null, lastAt: 0 };
  }
}

/** The document being edited, with undo and redo. */
export function useHistory(initial: FlowDefinition) {
  const [history, dispatch] = useReducer(reduce, initial, (definition) => reduce({} as History, { kind: "reset", definition }));
  const commit = useCallback((change: Change, key: string | null = null) => dispatch({ kind: "commit", change, key, at: Date.now() }), []);
  const undo = useCallback(() => dispatch({ kind: "undo" }), []);
  const redo = useCallback(() => dispatch({ kind: "redo" }), []);
  const reset = useCallback((definition: FlowDefinition) => dispatch({ kind: "reset", definition }), []);
  return {
    definition: history.present,
    canUndo: history.past.length > 0,
    canRedo: history.future.length > 0,
    commit,
    undo,
    redo,
    reset,
  };
}
