// Entry point: restores a saved session, then renders the console into #app.

import { html, render } from 'htm/preact';
import { App } from './app.js';
import { startSession } from './session.js';
import './styles.css';

const root = document.getElementById('app');

startSession()
  .catch(() => {
    // The platform did not answer: the screens show their own errors once they load.
  })
  .finally(() => {
    root.textContent = '';
    render(html`<${App} />`, root);
  });
