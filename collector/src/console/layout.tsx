import type { Child } from 'hono/jsx';
import type { Role } from '../auth/api-tokens.js';

/** Console pages, in navigation order, with the role each needs. */
const PAGES = [
  { path: '/console/live', title: 'Live sessions', role: 'admin' },
  { path: '/console/reports', title: 'Reports', role: 'analyst' },
  { path: '/console/settings', title: 'Settings', role: 'admin' },
] as const;

/** The signed-in user, as the layout shows them. */
export interface Viewer {
  name: string;
  role: Role;
  csrfToken: string;
}

/** Props of `Layout`. */
export interface LayoutProps {
  title: string;
  /** Signed-in user; the sign-in page has none. */
  viewer?: Viewer;
  /** Path of the current page, highlighted in the navigation. */
  current?: string;
  /** Scripts served from /console/assets, loaded at the end of the body. */
  scripts?: string[];
  children?: Child;
}

/** Wraps a console page: head, navigation with sign-out, and the page's scripts. */
export function Layout(props: LayoutProps) {
  const { viewer } = props;
  const pages = PAGES.filter(
    (page) => viewer && (viewer.role === 'admin' || page.role === viewer.role),
  );

  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · Process Sessions console`}</title>
        <link rel="stylesheet" href="/console/assets/console.css" />
      </head>
      <body>
        <header class="topbar">
          <span class="brand">Process Sessions</span>
          <nav>
            {pages.map((page) => (
              <a href={page.path} aria-current={page.path === props.current ? 'page' : undefined}>
                {page.title}
              </a>
            ))}
          </nav>
          {viewer && (
            <form method="post" action="/console/logout" class="signout">
              <span class="who">
                {viewer.name} ({viewer.role})
              </span>
              <input type="hidden" name="_csrf" value={viewer.csrfToken} />
              <button type="submit">Sign out</button>
            </form>
          )}
        </header>
        <main>
          <h1>{props.title}</h1>
          {props.children}
        </main>
        {(props.scripts ?? []).map((name) => (
          <script src={`/console/assets/${name}`} defer></script>
        ))}
      </body>
    </html>
  );
}

/** Renders a status line above a page's content, coloured by `kind`. */
export function Notice(props: { kind: 'info' | 'error'; children?: Child }) {
  return (
    <p class={`notice notice-${props.kind}`} role={props.kind === 'error' ? 'alert' : 'status'}>
      {props.children}
    </p>
  );
}
