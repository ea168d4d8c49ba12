import { render, type ComponentChild } from 'preact';
import './styles.css';
import { connect, hasSession, launchFromEhr } from './smart.js';
import { App } from './ui/App.js';
import { loadMe } from './ui/context.js';
import { Start } from './ui/Start.js';

const root = document.getElementById('app') as HTMLElement;

/** Replaces the page's plain-HTML boot message (Preact renders beside what it did not create). */
function show(view: ComponentChild): void {
  if (!root.dataset.rendered) root.textContent = '';
  root.dataset.rendered = 'yes';
  render(view, root);
}

/** EHR launch (iss and launch in the URL), a launch coming back or resumed, or the start page. */
async function boot(): Promise<void> {
  const params = new URLSearchParams(location.search);
  if (params.has('launch') && params.has('iss')) {
    await launchFromEhr();
    return;
  }
  if (!hasSession()) return show(<Start />);
  try {
    const session = await connect();
    const me = await loadMe(session);
    if (session.patient && !location.hash) location.hash = `#/patient/${encodeURIComponent(session.patient)}`;
    show(<App me={me} />);
  } catch (err) {
    sessionStorage.clear();
    const reason = params.get('error_description') ?? (err instanceof Error ? err.message : String(err));
    show(<Start problem={`La connexion n’a pas abouti : ${reason}. Relancez l’application.`} />);
  }
}

void boot();
