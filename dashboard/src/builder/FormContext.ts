import { createContext, useContext } from "react";

import type { VariableGroup } from "./variables";

export interface FormContextValue {
  /** What the template picker offers at the node being edited. */
  scope: VariableGroup[];
  readOnly: boolean;
}

export const FormContext = createContext<FormContextValue>({ scope: [], readOnly: true });

export function useFormContext(): FormContextValue {
  return useContext(FormContext);
}
