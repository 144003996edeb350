import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { render } from 'preact';
import { App } from './app.js';

const pages = (document.body.dataset.pages ?? '').split(' ').filter(Boolean);
const root = document.getElementById('app');
if (root) render(<App pages={pages} />, root);
