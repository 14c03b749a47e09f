import { createContext, useContext, useEffect, useRef, type ReactNode } from "react";

/** Where drawers open (just below the toolbar that opened them, so its buttons stay in
 * reach) and the message of the last action, shown inside the open drawer. */
export const DrawerPlacement = createContext<{ top: number; notice: ReactNode }>({ top: 56, notice: null });

interface DrawerProps {
  title: string;
  onClose: () => void;
  children: ReactNode;
  wide?: boolean;
}

/** A panel along the right edge that leaves the canvas in view (not modal): focus moves into
 * it when it opens and back to what opened it when it closes; Escape closes it. */
export function Drawer({ title, onClose, children, wide = false }: DrawerProps) {
  const ref = useRef<HTMLElement>(null);
  const { top, notice } = useContext(DrawerPlacement);

  useEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    ref.current?.focus();
    return () => opener?.focus();
  }, []);

  return (
    <aside
      ref={ref}
      className={wide ? "builder-drawer builder-drawer-wide" : "builder-drawer"}
      style={{ top }}
      role="dialog"
      aria-modal="false"
      aria-labelledby="builder-drawer-title"
      tabIndex={-1}
      onKeyDown={(event) => {
        // Escape in a dialog opened from the drawer (a confirmation) closes only that dialog.
        if (event.key === "Escape" && !(event.target instanceof Element && event.target.closest("dialog"))) {
          event.stopPropagation();
          onClose();
        }
      }}
    >
      <header className="builder-drawer-header">
        <h2 id="builder-drawer-title">{title}</h2>
        <button type="button" className="button-quiet" onClick={onClose} aria-label={`Close ${title.toLowerCase()}`}>
          ×
        </button>
      </header>
      <div className="builder-drawer-body">
        {notice}
        {children}
      </div>
    </aside>
  );
}
