import { useEffect, useRef } from 'preact/hooks';
import { TokenForm } from './components/token-form.js';
import { useRoute } from './hooks.js';
import { BurstDetail } from './pages/burst-detail.js';
import { BurstsPage } from './pages/bursts.js';
import { DrillDetail } from './pages/drill-detail.js';
import { DrillsPage } from './pages/drills.js';
import { FleetPage } from './pages/fleet.js';
import { ServicePage } from './pages/service.js';
import { XdsClientsPage } from './pages/xds-clients.js';

const TITLES: Record<string, string> = {
  bursts: 'Bursts',
  drills: 'Drills',
  fleet: 'Fleet',
  services: 'Services',
  xds: 'xDS clients',
};

/** The shell: navigation over the pages this process serves, the token form, the page. */
export function App(props: { pages: readonly string[] }) {
  const [page = props.pages[0] ?? '', ...rest] = useRoute();
  const main = useRef<HTMLElement>(null);
  // After a navigation the new page takes the focus, so keyboard and screen-reader users land on
  // it; on the first load the focus stays at the top of the document (Tab reaches Skip first).
  const navigated = useRef(false);
  useEffect(() => {
    if (navigated.current) main.current?.focus();
    navigated.current = true;
  }, [page, rest[0]]);
  const shown = props.pages.includes(page) ? page : undefined;
  return (
    <>
      <header>
        <button type="button" class="skip" onClick={() => main.current?.focus()}>
          Skip to content
        </button>
        <strong class="brand">Spillway</strong>
        <nav aria-label="Console pages">
          <ul>
            {props.pages.map((name) => (
              <li key={name}>
                <a href={`#/${name}`} aria-current={name === shown ? 'page' : undefined}>
                  {TITLES[name] ?? name}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <TokenForm />
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {shown ? <Page name={shown} rest={rest} pages={props.pages} /> : <p>This server shows no page at {page}.</p>}
      </main>
    </>
  );
}

function Page(props: { name: string; rest: readonly string[]; pages: readonly string[] }) {
  const [id] = props.rest;
  switch (props.name) {
    case 'bursts':
      return id ? <BurstDetail id={id} /> : <BurstsPage />;
    case 'drills':
      return id ? <DrillDetail id={id} /> : <DrillsPage />;
    case 'fleet':
      return <FleetPage />;
    case 'services':
      return <ServicePage serviceKey={id} showBursts={props.pages.includes('bursts')} />;
    case 'xds':
      return <XdsClientsPage />;
    default:
      return <p>Unknown page.</p>;
  }
}
