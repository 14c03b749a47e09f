import { Component, Suspense, type ReactNode } from "react";

import { ErrorState } from "./ErrorState";
import { LoadingState } from "./LoadingState";

interface LoadFailureBoundaryProps {
  /** What failed, for the title: "The executions page". */
  what: string;
  children: ReactNode;
}

/** A page's code that could not be fetched (it loads with the page: the API may be gone, or
 * a new build replaced it) shows why and a reload, instead of a blank screen. */
export class LoadFailureBoundary extends Component<LoadFailureBoundaryProps, { error: unknown }> {
  state = { error: null as unknown };

  static getDerivedStateFromError(error: unknown) {
    return { error };
  }

  render() {
    if (this.state.error === null) return this.props.children;
    return (
      <ErrorState
        title={`${this.props.what} could not be loaded`}
        error={this.state.error}
        onRetry={() => window.location.reload()}
      />
    );
  }
}

/** A page whose code loads with it: "Loading …" meanwhile, and if its code cannot be
 * fetched, the reason and a reload instead of a blank screen. */
export function LazyPage({ what, loading, children }: { what: string; loading: string; children: ReactNode }) {
  return (
    <LoadFailureBoundary what={what}>
      <Suspense fallback={<LoadingState label={loading} page />}>{children}</Suspense>
    </LoadFailureBoundary>
  );
}
