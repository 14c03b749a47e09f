import { NavLink, Outlet, useLocation } from "react-router";

import { PAGES } from "../pages";
import { SignedInKey } from "./SignedInKey";

/** The frame of every page once signed in: navigation, who is signed in, the page. */
export function AppShell() {
  const { pathname } = useLocation();
  const belongs = (also: string[] | undefined) => (also ?? []).some((path) => pathname === path || pathname.startsWith(`${path}/`));
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">
          <span className="brand-mark" aria-hidden="true">F</span> Flowdeck
        </span>
        <SignedInKey />
      </header>
      <nav className="sidebar" aria-label="Main">
        <ul>
          {PAGES.map((page) => (
            <li key={page.path}>
              <NavLink
                to={page.path}
                className={({ isActive }) => (isActive || belongs(page.also) ? "nav-link active" : "nav-link")}
              >
                {page.label}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" className="content" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}
