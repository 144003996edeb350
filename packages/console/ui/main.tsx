import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { render } from 'preact';
import { App } from './app.js';
import { servesPage } from './pages-served.js';

const pages = ['bursts', 'drills', 'fleet', 'services', 'xds'].filter(servesPage);
const root = document.getElementById('app');
if (root) render(<App pages={pages} />, root);
